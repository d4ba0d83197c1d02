package dev.billing.transport.grpc.stream;

import dev.billing.domain.change.ChangeFeed;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The response marshaller of StreamSubscriptionChanges: a live change's message, built once by the
 * {@link StreamHub} for every stream, is also serialized once ({@link #share}), and each stream's
 * send copies those bytes instead of encoding the message again (its strings, its entitlement's
 * maps). The bytes are found by the change's seq, in a ring larger than the feed's page, so every
 * change of the page being offered has its own slot. Any other message (a heartbeat, a catch-up's,
 * one whose slot a later change took) is serialized as grpc-java's protobuf marshaller does it,
 * which also parses requests.
 */
public final class SharedResponses
    implements MethodDescriptor.Marshaller<StreamSubscriptionChangesResponse> {
  /** Slots by seq: a power of two above the feed's page size. */
  static final int SLOTS = Integer.highestOneBit(ChangeFeed.PAGE_SIZE) << 1;

  private final MethodDescriptor.Marshaller<StreamSubscriptionChangesResponse> plain;
  private final AtomicReferenceArray<Serialized> slots = new AtomicReferenceArray<>(SLOTS);

  private record Serialized(StreamSubscriptionChangesResponse message, byte[] bytes) {}

  public SharedResponses() {
    this(BillingServiceGrpc.getStreamSubscriptionChangesMethod().getResponseMarshaller());
  }

  SharedResponses(MethodDescriptor.Marshaller<StreamSubscriptionChangesResponse> plain) {
    this.plain = plain;
  }

  /** Serializes a change's message now, once, for every stream it is about to be offered to. */
  void share(StreamSubscriptionChangesResponse message) {
    slots.set(slot(message), new Serialized(message, message.toByteArray()));
  }

  private static int slot(StreamSubscriptionChangesResponse message) {
    return (int) (message.getChange().getSeq() & (SLOTS - 1));
  }

  @Override
  public InputStream stream(StreamSubscriptionChangesResponse value) {
    if (value.hasChange()) {
      Serialized s = slots.get(slot(value));
      if (s != null && s.message == value) {
        return new Bytes(s.bytes);
      }
    }
    return plain.stream(value);
  }

  @Override
  public StreamSubscriptionChangesResponse parse(InputStream stream) {
    return plain.parse(stream);
  }

  /**
   * {@code service} (BillingService, as generated) with StreamSubscriptionChanges answering through
   * {@code responses}; every other method, and the schema reflection serves, unchanged.
   */
  public static ServerServiceDefinition bind(
      ServerServiceDefinition service, SharedResponses responses) {
    String streamMethod =
        BillingServiceGrpc.getStreamSubscriptionChangesMethod().getFullMethodName();
    ServiceDescriptor original = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(original.getName())
            .setSchemaDescriptor(original.getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (MethodDescriptor<?, ?> method : original.getMethods()) {
      ServerMethodDefinition<?, ?> bound = service.getMethod(method.getFullMethodName());
      if (method.getFullMethodName().equals(streamMethod)) {
        bound = withResponses(bound, responses);
      }
      descriptor.addMethod(bound.getMethodDescriptor());
      methods.add(bound);
    }
    ServerServiceDefinition.Builder definition =
        ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(definition::addMethod);
    return definition.build();
  }

  @SuppressWarnings("unchecked") // the generated stub's types for this method
  private static ServerMethodDefinition<?, ?> withResponses(
      ServerMethodDefinition<?, ?> bound, SharedResponses responses) {
    var method =
        (ServerMethodDefinition<
                StreamSubscriptionChangesRequest, StreamSubscriptionChangesResponse>)
            bound;
    return ServerMethodDefinition.create(
        method.getMethodDescriptor().toBuilder().setResponseMarshaller(responses).build(),
        method.getServerCallHandler());
  }

  /** One send of shared bytes: gRPC's framer asks its length and drains it into the frame. */
  private static final class Bytes extends InputStream implements KnownLength, Drainable {
    private final byte[] bytes;
    private int position;

    Bytes(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int drainTo(OutputStream target) throws java.io.IOException {
      int n = bytes.length - position;
      target.write(bytes, position, n);
      position = bytes.length;
      return n;
    }

    @Override
    public int available() {
      return bytes.length - position;
    }

    @Override
    public int read() {
      return position < bytes.length ? bytes[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      if (position >= bytes.length) {
        return -1;
      }
      int n = Math.min(len, bytes.length - position);
      System.arraycopy(bytes, position, b, off, n);
      position += n;
      return n;
    }
  }
}
