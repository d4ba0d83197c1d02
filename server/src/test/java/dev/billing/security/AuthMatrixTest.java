package dev.billing.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.billing.client.BearerToken;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.testing.TestServer;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every RPC x {no token, unknown token, wrong scope, right scope}. Health and reflection stay open.
 */
class AuthMatrixTest {
  /** The scope each RPC needs (admin may call all). */
  private static final Map<String, String> REQUIRED =
      Map.ofEntries(
          Map.entry("GetEntitlement", "entitlements:read"),
          Map.entry("ListPlans", "entitlements:read"),
          Map.entry("ListCreditPackages", "entitlements:read"),
          Map.entry("ListCreditTransactions", "entitlements:read"),
          Map.entry("CreateCheckout", "checkout:write"),
          Map.entry("CreatePortalSession", "checkout:write"),
          Map.entry("CancelSubscription", "checkout:write"),
          Map.entry("GetReferralCode", "checkout:write"),
          Map.entry("ApplyReferralCode", "checkout:write"),
          Map.entry("ListPayments", "checkout:write"),
          Map.entry("GetPayment", "checkout:write"),
          Map.entry("GrantCredits", "credits:write"),
          Map.entry("ConsumeCredits", "credits:write"),
          Map.entry("StreamSubscriptionChanges", "stream:read"),
          Map.entry("RefundPayment", "admin"),
          Map.entry("ListAuditEntries", "admin"),
          Map.entry("ListWebhookEvents", "admin"),
          Map.entry("ReplayWebhookEvent", "admin"),
          Map.entry("ReconcileWithStripe", "admin"),
          Map.entry("RecordUsage", "usage:write"),
          Map.entry("ListUsage", "entitlements:read"),
          Map.entry("CheckUsage", "entitlements:read"),
          Map.entry("ListMeterEvents", "admin"),
          Map.entry("PreviewPlanChange", "entitlements:read"),
          Map.entry("ChangePlan", "checkout:write"),
          Map.entry("CancelPendingPlanChange", "checkout:write"),
          Map.entry("CreatePaymentIntent", "checkout:write"),
          Map.entry("GetCheckoutSession", "entitlements:read"),
          Map.entry("CreateSetupIntent", "checkout:write"),
          Map.entry("ListPaymentMethods", "entitlements:read"),
          Map.entry("SetDefaultPaymentMethod", "checkout:write"),
          Map.entry("DetachPaymentMethod", "checkout:write"),
          Map.entry("CreateSubscription", "checkout:write"));

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

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (var method : BillingServiceGrpc.getServiceDescriptor().getMethods()) {
      String name = method.getBareMethodName();
      String needed = REQUIRED.get(name);
      String wrong =
          TestServer.SCOPED_TOKENS.keySet().stream()
              .filter(s -> !s.equals(needed))
              .sorted()
              .findFirst()
              .orElseThrow();
      cases.add(Arguments.of(name, "no token", null, Status.Code.UNAUTHENTICATED));
      cases.add(
          Arguments.of(name, "unknown token", "not-a-known-token", Status.Code.UNAUTHENTICATED));
      cases.add(
          Arguments.of(
              name,
              "wrong scope " + wrong,
              TestServer.SCOPED_TOKENS.get(wrong),
              Status.Code.PERMISSION_DENIED));
      String right =
          needed.equals("admin") ? TestServer.ADMIN_TOKEN : TestServer.SCOPED_TOKENS.get(needed);
      cases.add(Arguments.of(name, "right scope " + needed, right, Status.Code.OK));
    }
    return cases.stream();
  }

  @Test
  void everyRpcIsInTheMatrix() {
    assertThat(BillingServiceGrpc.getServiceDescriptor().getMethods())
        .extracting(MethodDescriptor::getBareMethodName)
        .containsExactlyInAnyOrderElementsOf(REQUIRED.keySet());
  }

  @SuppressWarnings("unchecked")
  @ParameterizedTest(name = "{0} with {1}")
  @MethodSource("cases")
  void callersGetExactlyWhatTheirTokenAllows(
      String method, String label, String token, Status.Code expected) {
    var descriptor =
        (MethodDescriptor<Message, Message>)
            BillingServiceGrpc.getServiceDescriptor().getMethods().stream()
                .filter(m -> m.getBareMethodName().equals(method))
                .findFirst()
                .orElseThrow();
    Message request =
        ((MethodDescriptor.PrototypeMarshaller<Message>) descriptor.getRequestMarshaller())
            .getMessagePrototype();
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS);
    if (token != null) {
      options = options.withCallCredentials(new BearerToken(token));
    }
    Status.Code actual;
    try {
      if (descriptor.getType() == MethodDescriptor.MethodType.SERVER_STREAMING) {
        ClientCalls.blockingServerStreamingCall(channel, descriptor, options, request).hasNext();
      } else {
        ClientCalls.blockingUnaryCall(channel, descriptor, options, request);
      }
      actual = Status.Code.OK;
    } catch (StatusRuntimeException e) {
      actual = e.getStatus().getCode();
    }
    if (expected == Status.Code.OK) {
      // Authorised: the call reaches the service (an empty request may still be INVALID_ARGUMENT or
      // NOT_FOUND).
      assertThat(actual)
          .isNotIn(
              Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED, Status.Code.INTERNAL);
    } else {
      assertThat(actual).isEqualTo(expected);
    }
  }

  @Test
  void healthStaysOpen() {
    assertThat(
            HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.getDefaultInstance())
                .getStatus()
                .name())
        .isEqualTo("SERVING");
  }
}
