package dev.billing.transport.grpc.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.domain.change.ChangeFeed;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.Heartbeat;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.proto.v1.SubscriptionChange;
import io.grpc.BindableService;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A live change's message is serialized once, and every stream sends exactly those bytes. */
class SharedResponsesTest {
  private final AtomicInteger plainSends = new AtomicInteger();
  private final MethodDescriptor.Marshaller<StreamSubscriptionChangesResponse> protobuf =
      BillingServiceGrpc.getStreamSubscriptionChangesMethod().getResponseMarshaller();
  private final SharedResponses responses =
      new SharedResponses(
          new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(StreamSubscriptionChangesResponse value) {
              plainSends.incrementAndGet();
              return protobuf.stream(value);
            }

            @Override
            public StreamSubscriptionChangesResponse parse(InputStream stream) {
              return protobuf.parse(stream);
            }
          });

  private static StreamSubscriptionChangesResponse change(long seq) {
    return StreamSubscriptionChangesResponse.newBuilder()
        .setChange(
            SubscriptionChange.newBuilder()
                .setSeq(seq)
                .setUserId("user-" + seq + "-é")
                .setKind(ChangeKind.CHANGE_KIND_CREDITS_CHANGED))
        .build();
  }

  private static byte[] drained(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(in).isInstanceOf(KnownLength.class).isInstanceOf(Drainable.class);
    int length = in.available();
    assertThat(((Drainable) in).drainTo(out)).isEqualTo(length);
    return out.toByteArray();
  }

  @Test
  void aSharedMessageIsSentAsTheBytesSerializedOnce() throws IOException {
    StreamSubscriptionChangesResponse message = change(7);
    responses.share(message);
    for (int stream = 0; stream < 3; stream++) {
      assertThat(drained(responses.stream(message))).isEqualTo(message.toByteArray());
    }
    assertThat(plainSends).hasValue(0);
    // Read byte by byte too (a transport may not drain): the same message parses back.
    assertThat(responses.parse(responses.stream(message))).isEqualTo(message);
  }

  @Test
  void anEqualButDifferentMessageIsSerializedOnItsOwn() throws IOException {
    responses.share(change(7));
    StreamSubscriptionChangesResponse copy = change(7);
    assertThat(responses.stream(copy).readAllBytes()).isEqualTo(copy.toByteArray());
    StreamSubscriptionChangesResponse heartbeat =
        StreamSubscriptionChangesResponse.newBuilder()
            .setHeartbeat(Heartbeat.newBuilder().setLastSeq(7))
            .build();
    assertThat(responses.stream(heartbeat).readAllBytes()).isEqualTo(heartbeat.toByteArray());
    assertThat(plainSends).hasValue(2);
  }

  @Test
  void everyChangeOfAFullPageKeepsItsBytesUntilALaterChangeTakesItsSlot() throws IOException {
    StreamSubscriptionChangesResponse[] page =
        new StreamSubscriptionChangesResponse[ChangeFeed.PAGE_SIZE];
    for (int i = 0; i < page.length; i++) {
      page[i] = change(1 + i);
      responses.share(page[i]);
    }
    for (StreamSubscriptionChangesResponse m : page) {
      assertThat(drained(responses.stream(m))).isEqualTo(m.toByteArray());
    }
    assertThat(plainSends).hasValue(0);

    responses.share(change(1 + SharedResponses.SLOTS)); // the first change's slot
    assertThat(responses.stream(page[0]).readAllBytes()).isEqualTo(page[0].toByteArray());
    assertThat(plainSends).hasValue(1);
    assertThat(drained(responses.stream(page[1]))).isEqualTo(page[1].toByteArray());
    assertThat(plainSends).hasValue(1);
  }

  @Test
  void bindingChangesOnlyTheStreamMethodsResponses() {
    BindableService service = new BillingServiceGrpc.BillingServiceImplBase() {};
    ServerServiceDefinition generated = service.bindService();
    ServerServiceDefinition bound = SharedResponses.bind(generated, responses);

    assertThat(bound.getServiceDescriptor().getName())
        .isEqualTo(generated.getServiceDescriptor().getName());
    // Server reflection reads the schema from here.
    assertThat(bound.getServiceDescriptor().getSchemaDescriptor())
        .isSameAs(generated.getServiceDescriptor().getSchemaDescriptor())
        .isInstanceOf(ProtoServiceDescriptorSupplier.class);
    assertThat(bound.getMethods()).hasSameSizeAs(generated.getMethods());
    String stream = BillingServiceGrpc.getStreamSubscriptionChangesMethod().getFullMethodName();
    generated
        .getMethods()
        .forEach(
            m -> {
              String name = m.getMethodDescriptor().getFullMethodName();
              var rebound = bound.getMethod(name);
              assertThat(rebound.getServerCallHandler()).isSameAs(m.getServerCallHandler());
              if (name.equals(stream)) {
                assertThat(rebound.getMethodDescriptor().getResponseMarshaller())
                    .isSameAs(responses);
                assertThat(rebound.getMethodDescriptor().getRequestMarshaller())
                    .isSameAs(m.getMethodDescriptor().getRequestMarshaller());
              } else {
                assertThat(rebound.getMethodDescriptor()).isSameAs(m.getMethodDescriptor());
              }
            });
  }
}
