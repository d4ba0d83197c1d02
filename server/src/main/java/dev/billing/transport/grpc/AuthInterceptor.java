package dev.billing.transport.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer-token authentication and scope checks for BillingService (health and reflection are not
 * behind it). Missing or unknown token: UNAUTHENTICATED; a token without the method's scope:
 * PERMISSION_DENIED. The caller's service name is published through {@link CallerContext}.
 */
public final class AuthInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(AuthInterceptor.class);
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** The scope each method needs, by bare method name. */
  static final Map<String, Scope> REQUIRED =
      Map.ofEntries(
          Map.entry("GetEntitlement", Scope.ENTITLEMENTS_READ),
          Map.entry("ListPlans", Scope.ENTITLEMENTS_READ),
          Map.entry("ListCreditPackages", Scope.ENTITLEMENTS_READ),
          Map.entry("ListCreditTransactions", Scope.ENTITLEMENTS_READ),
          Map.entry("CreateCheckout", Scope.CHECKOUT_WRITE),
          Map.entry("CreatePortalSession", Scope.CHECKOUT_WRITE),
          Map.entry("CancelSubscription", Scope.CHECKOUT_WRITE),
          Map.entry("GetReferralCode", Scope.CHECKOUT_WRITE),
          Map.entry("ApplyReferralCode", Scope.CHECKOUT_WRITE),
          Map.entry("ListPayments", Scope.CHECKOUT_WRITE),
          Map.entry("GetPayment", Scope.CHECKOUT_WRITE),
          Map.entry("GrantCredits", Scope.CREDITS_WRITE),
          Map.entry("ConsumeCredits", Scope.CREDITS_WRITE),
          Map.entry("StreamSubscriptionChanges", Scope.STREAM_READ),
          Map.entry("RefundPayment", Scope.ADMIN),
          Map.entry("ListAuditEntries", Scope.ADMIN),
          Map.entry("ListWebhookEvents", Scope.ADMIN),
          Map.entry("ReplayWebhookEvent", Scope.ADMIN),
          Map.entry("ReconcileWithStripe", Scope.ADMIN),
          Map.entry("RecordUsage", Scope.USAGE_WRITE),
          Map.entry("ListUsage", Scope.ENTITLEMENTS_READ),
          Map.entry("CheckUsage", Scope.ENTITLEMENTS_READ),
          Map.entry("ListMeterEvents", Scope.ADMIN),
          Map.entry("PreviewPlanChange", Scope.ENTITLEMENTS_READ),
          Map.entry("ChangePlan", Scope.CHECKOUT_WRITE),
          Map.entry("CancelPendingPlanChange", Scope.CHECKOUT_WRITE),
          Map.entry("CreatePaymentIntent", Scope.CHECKOUT_WRITE),
          Map.entry("GetCheckoutSession", Scope.ENTITLEMENTS_READ),
          Map.entry("CreateSetupIntent", Scope.CHECKOUT_WRITE),
          Map.entry("ListPaymentMethods", Scope.ENTITLEMENTS_READ),
          Map.entry("SetDefaultPaymentMethod", Scope.CHECKOUT_WRITE),
          Map.entry("DetachPaymentMethod", Scope.CHECKOUT_WRITE),
          Map.entry("CreateSubscription", Scope.CHECKOUT_WRITE));

  private final TokenStore tokens;

  public AuthInterceptor(TokenStore tokens) {
    this.tokens = tokens;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getBareMethodName();
    String header = headers.get(AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
      return reject(
          call,
          Status.UNAUTHENTICATED.withDescription(
              "missing bearer token: send `authorization: Bearer <token>`"),
          method,
          null);
    }
    TokenStore.Caller caller = tokens.authenticate(header.substring(7).strip());
    if (caller == null) {
      return reject(
          call, Status.UNAUTHENTICATED.withDescription("unknown bearer token"), method, null);
    }
    Scope needed = REQUIRED.getOrDefault(method, Scope.ADMIN);
    if (!caller.may(needed)) {
      return reject(
          call,
          Status.PERMISSION_DENIED.withDescription(
              "service '" + caller.service() + "' lacks scope " + needed.wire() + " for " + method),
          method,
          caller.service());
    }
    Context ctx = Context.current().withValue(CallerContext.CALLER, caller.service());
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  private static <Q, R> ServerCall.Listener<Q> reject(
      ServerCall<Q, R> call, Status status, String method, String service) {
    log.warn(
        "{} {} from {}: {}",
        status.getCode(),
        method,
        service == null ? "unauthenticated caller" : service,
        status.getDescription());
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
