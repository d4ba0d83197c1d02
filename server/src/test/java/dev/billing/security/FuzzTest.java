package dev.billing.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.billing.client.BearerToken;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.stripe.WebhookSigner;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestServer;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Thousands of random and mutated webhook deliveries and gRPC requests: a client mistake is never a
 * 5xx or INTERNAL, the server stays up, and the database holds only properly signed events.
 */
class FuzzTest {
  private static final long SEED = 20261122L;
  private static TestServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    channel = server.channel();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static final String[] NASTY = {
    "",
    " ",
    "null",
    "-1",
    "0",
    "9223372036854775807",
    "\u0000",
    "\uD83D\uDE00",
    "'; DROP TABLE payments; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "x".repeat(5000),
    "evt_" + "9".repeat(300),
    "{\"nested\":true}",
    "sk_test_" + "a".repeat(20),
    "\\u0000",
    "user id with spaces",
  };

  private static JsonElement randomValue(Random r, int depth) {
    return switch (r.nextInt(depth > 2 ? 4 : 6)) {
      case 0 -> JsonNull.INSTANCE;
      case 1 -> new JsonPrimitive(NASTY[r.nextInt(NASTY.length)]);
      case 2 -> new JsonPrimitive(r.nextLong());
      case 3 -> new JsonPrimitive(r.nextBoolean());
      case 4 -> {
        JsonArray a = new JsonArray();
        for (int i = r.nextInt(3); i > 0; i--) {
          a.add(randomValue(r, depth + 1));
        }
        yield a;
      }
      default -> {
        JsonObject o = new JsonObject();
        for (int i = r.nextInt(3); i > 0; i--) {
          o.add(NASTY[r.nextInt(NASTY.length)], randomValue(r, depth + 1));
        }
        yield o;
      }
    };
  }

  /** Replaces, removes or adds a random field somewhere in the tree. */
  private static void mutate(JsonObject o, Random r, int depth) {
    List<String> keys = new ArrayList<>(o.keySet());
    if (keys.isEmpty() || r.nextInt(6) == 0) {
      o.add(NASTY[r.nextInt(NASTY.length)], randomValue(r, depth));
      return;
    }
    String key = keys.get(r.nextInt(keys.size()));
    JsonElement child = o.get(key);
    if (child.isJsonObject() && r.nextBoolean()) {
      mutate(child.getAsJsonObject(), r, depth + 1);
    } else if (r.nextInt(4) == 0) {
      o.remove(key);
    } else {
      o.add(key, randomValue(r, depth));
    }
  }

  private static List<String> seeds(long t) {
    return List.of(
        StripeFixtures.subscriptionEvent(
            "evt_seed1",
            "customer.subscription.created",
            t,
            Sub.of("sub_f1", "cus_f1", "fz-1", "price_pro", "active")),
        StripeFixtures.subscriptionEvent(
            "evt_seed2",
            "customer.subscription.deleted",
            t,
            Sub.of("sub_f2", "cus_f2", "fz-2", "price_studio", "canceled").legacy()),
        StripeFixtures.event(
            "evt_seed3",
            "invoice.payment_failed",
            t,
            StripeFixtures.invoiceObject("in_f3", "sub_f1", "cus_f1", "fz-1", 1900, false, "pi_f3"),
            "2026-07-29.dahlia"),
        StripeFixtures.event(
            "evt_seed4",
            "charge.refunded",
            t,
            StripeFixtures.chargeObject("ch_f4", "pi_f4", 1000, 500),
            "2026-07-29.dahlia"),
        StripeFixtures.event(
            "evt_seed5",
            "checkout.session.completed",
            t,
            StripeFixtures.checkoutSessionObject(
                "cs_f5", "payment", "cus_f5", "fz-5", null, "pi_f5", 1500, "paid", null),
            "2026-07-29.dahlia"));
  }

  @Test
  void mutatedWebhooksNeverBreakTheServerOrStoreUnsignedEvents() {
    Random r = new Random(SEED);
    long t = Instant.now().getEpochSecond();
    List<String> seeds = seeds(t);
    Set<String> signedIds = new HashSet<>();
    Map<Integer, Integer> statuses = new HashMap<>();
    for (int i = 0; i < 2000; i++) {
      String body;
      if (r.nextInt(10) == 0) {
        byte[] junk = new byte[r.nextInt(400)];
        r.nextBytes(junk);
        body = new String(junk, java.nio.charset.StandardCharsets.ISO_8859_1);
      } else {
        JsonObject event =
            JsonParser.parseString(seeds.get(r.nextInt(seeds.size()))).getAsJsonObject();
        event.addProperty("id", "evt_fuzz_" + i);
        for (int m = r.nextInt(4); m > 0; m--) {
          mutate(event, r, 0);
        }
        body = event.toString();
        if (r.nextInt(8) == 0) {
          body = body.substring(0, r.nextInt(body.length()));
        }
      }
      boolean signed = r.nextInt(2) == 0;
      String header =
          signed
              ? WebhookSigner.header(body, StripeFixtures.WEBHOOK_SECRET, t)
              : switch (r.nextInt(4)) {
                case 0 -> null;
                case 1 -> NASTY[r.nextInt(NASTY.length)];
                case 2 -> WebhookSigner.header(body, "whsec_wrong", t);
                default -> WebhookSigner.header(body, StripeFixtures.WEBHOOK_SECRET, t - 10_000);
              };
      String contentType = r.nextInt(10) == 0 ? "text/plain" : "application/json";
      HttpRequest.Builder request =
          HttpRequest.newBuilder(server.url("/webhooks/stripe"))
              .header("Content-Type", contentType)
              .POST(HttpRequest.BodyPublishers.ofString(body));
      if (header != null && header.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
        request.header("Stripe-Signature", header);
      }
      HttpResponse<String> response = server.send(request.build());
      statuses.merge(response.statusCode(), 1, Integer::sum);
      assertThat(response.statusCode())
          .as("delivery %d: %s", i, response.body())
          .isIn(200, 400, 415);
      if (response.statusCode() == 200) {
        assertThat(signed).as("an unsigned delivery was accepted").isTrue();
        signedIds.add(JsonParser.parseString(body).getAsJsonObject().get("id").getAsString());
      }
    }
    // Only properly signed, well-formed events are stored; nothing else.
    long stored =
        server.queryLong("SELECT COUNT(*) FROM stripe_events"); // this server saw nothing else
    assertThat(stored).isEqualTo(signedIds.size());
    assertThat(
            server.queryLong("SELECT COUNT(*) FROM entitlements WHERE CHAR_LENGTH(user_id) > 128"))
        .isZero();
    assertThat(server.get("/healthz").statusCode()).isEqualTo(200);
    assertThat(statuses).containsKeys(200, 400);
  }

  private static Object randomFieldValue(FieldDescriptor f, Random r) {
    return switch (f.getJavaType()) {
      case STRING -> r.nextInt(3) == 0 ? "fz-" + r.nextInt(50) : NASTY[r.nextInt(NASTY.length)];
      case LONG ->
          switch (r.nextInt(4)) {
            case 0 -> r.nextLong();
            case 1 -> (long) r.nextInt(2000) - 500;
            case 2 -> Long.MAX_VALUE;
            default -> Long.MIN_VALUE;
          };
      case INT -> r.nextInt(3) == 0 ? r.nextInt() : r.nextInt(200) - 50;
      case BOOLEAN -> r.nextBoolean();
      case ENUM -> f.getEnumType().getValues().get(r.nextInt(f.getEnumType().getValues().size()));
      default -> null;
    };
  }

  private static Message randomMessage(Message prototype, Random r, int depth) {
    Message.Builder b = prototype.newBuilderForType();
    for (FieldDescriptor f : prototype.getDescriptorForType().getFields()) {
      if (r.nextInt(4) == 0) {
        continue;
      }
      if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        if (depth < 2 && !f.isMapField()) {
          Message child =
              randomMessage(b.newBuilderForField(f).getDefaultInstanceForType(), r, depth + 1);
          if (f.isRepeated()) {
            b.addRepeatedField(f, child);
          } else {
            b.setField(f, child);
          }
        }
        continue;
      }
      if (f.isRepeated()) {
        for (int i = r.nextInt(4); i > 0; i--) {
          b.addRepeatedField(f, randomFieldValue(f, r));
        }
      } else {
        b.setField(f, randomFieldValue(f, r));
      }
    }
    return b.build();
  }

  @SuppressWarnings("unchecked")
  @Test
  void randomGrpcRequestsAreNeverInternalErrors() {
    Random r = new Random(SEED + 1);
    List<MethodDescriptor<Message, Message>> methods = new ArrayList<>();
    for (var m : BillingServiceGrpc.getServiceDescriptor().getMethods()) {
      if (m.getType() == MethodDescriptor.MethodType.UNARY) {
        methods.add((MethodDescriptor<Message, Message>) m);
      }
    }
    Map<Status.Code, Integer> codes = new HashMap<>();
    for (int i = 0; i < 1500; i++) {
      var method = methods.get(r.nextInt(methods.size()));
      Message prototype =
          ((MethodDescriptor.PrototypeMarshaller<Message>) method.getRequestMarshaller())
              .getMessagePrototype();
      Message request = randomMessage(prototype, r, 0);
      CallOptions options =
          CallOptions.DEFAULT
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .withCallCredentials(new BearerToken(TestServer.ADMIN_TOKEN));
      Status.Code code;
      try {
        ClientCalls.blockingUnaryCall(channel, method, options, request);
        code = Status.Code.OK;
      } catch (StatusRuntimeException e) {
        code = e.getStatus().getCode();
      }
      codes.merge(code, 1, Integer::sum);
      assertThat(code)
          .as("%s %s", method.getBareMethodName(), request)
          .isNotIn(Status.Code.INTERNAL, Status.Code.UNKNOWN, Status.Code.DATA_LOSS);
    }
    assertThat(codes).containsKeys(Status.Code.INVALID_ARGUMENT, Status.Code.OK);
    // Streams with random filters and cursors.
    for (int i = 0; i < 100; i++) {
      Message request =
          randomMessage(
              dev.billing.proto.v1.StreamSubscriptionChangesRequest.getDefaultInstance(), r, 0);
      try {
        var it =
            ClientCalls.blockingServerStreamingCall(
                channel,
                (MethodDescriptor<Message, Message>)
                    (MethodDescriptor<?, ?>)
                        BillingServiceGrpc.getStreamSubscriptionChangesMethod(),
                CallOptions.DEFAULT
                    .withDeadlineAfter(2, TimeUnit.SECONDS)
                    .withCallCredentials(new BearerToken(TestServer.ADMIN_TOKEN)),
                request);
        it.hasNext();
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode())
            .isIn(
                Status.Code.INVALID_ARGUMENT,
                Status.Code.OUT_OF_RANGE,
                Status.Code.DEADLINE_EXCEEDED);
      }
    }
    assertThat(server.get("/healthz").statusCode()).isEqualTo(200);
  }
}
