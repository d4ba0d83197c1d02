package dev.billing.grpc;

import dev.billing.audit.Cause;
import dev.billing.checkout.CheckoutProtoConverter;
import dev.billing.checkout.CheckoutService;
import dev.billing.config.Catalog;
import dev.billing.credits.CreditResult;
import dev.billing.credits.CreditService;
import dev.billing.entitlement.EntitlementService;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.CreateCheckoutResponse;
import dev.billing.proto.v1.CreatePortalSessionRequest;
import dev.billing.proto.v1.CreatePortalSessionResponse;
import dev.billing.proto.v1.GetEntitlementRequest;
import dev.billing.proto.v1.GetEntitlementResponse;
import dev.billing.proto.v1.GrantCreditsRequest;
import dev.billing.proto.v1.GrantCreditsResponse;
import dev.billing.proto.v1.ListCreditPackagesRequest;
import dev.billing.proto.v1.ListCreditPackagesResponse;
import dev.billing.proto.v1.ListPlansRequest;
import dev.billing.proto.v1.ListPlansResponse;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.stream.ChangeFeed;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;

/** billing.v1.BillingService: validates, converts and delegates to the domain services. */
public final class BillingGrpcService extends BillingServiceGrpc.BillingServiceImplBase {
  private static final int MAX_STREAM_USER_FILTER = 1000;

  private final EntitlementService entitlements;
  private final CreditService credits;
  private final ChangeFeed feed;
  private final CheckoutService checkout;
  private final ListPlansResponse plans;
  private final ListCreditPackagesResponse creditPackages;

  public BillingGrpcService(
      EntitlementService entitlements,
      CreditService credits,
      ChangeFeed feed,
      CheckoutService checkout,
      Catalog catalog) {
    this.entitlements = entitlements;
    this.credits = credits;
    this.feed = feed;
    this.checkout = checkout;
    this.plans = CheckoutProtoConverter.plans(catalog);
    this.creditPackages = CheckoutProtoConverter.creditPackages(catalog);
  }

  @Override
  public void getEntitlement(
      GetEntitlementRequest request, StreamObserver<GetEntitlementResponse> responses) {
    try {
      if (!UserIds.isValid(request.getUserId())) {
        new RequestValidator().userId("user_id", request.getUserId()).validate();
      }
      responses.onNext(entitlements.get(request.getUserId()));
      responses.onCompleted();
    } catch (RuntimeException e) {
      responses.onError(StatusMapper.toStatus(e, "GetEntitlement"));
    }
  }

  @Override
  public void grantCredits(
      GrantCreditsRequest request, StreamObserver<GrantCreditsResponse> responses) {
    try {
      new RequestValidator()
          .userId("user_id", request.getUserId())
          .amount("amount", request.getAmount(), CreditService.MAX_AMOUNT)
          .idempotencyKey("idempotency_key", request.getIdempotencyKey())
          .maxLength("reason", request.getReason(), 512)
          .validate();
      CreditResult result =
          credits.grant(
              request.getUserId(),
              request.getAmount(),
              request.getIdempotencyKey(),
              request.getReason().isEmpty() ? null : request.getReason(),
              Cause.api(CallerContext.caller()));
      responses.onNext(
          GrantCreditsResponse.newBuilder()
              .setBalance(result.balance())
              .setTransactionId(result.transactionId())
              .setReplayed(result.replayed())
              .build());
      responses.onCompleted();
    } catch (RuntimeException e) {
      responses.onError(StatusMapper.toStatus(e, "GrantCredits"));
    }
  }

  @Override
  public void streamSubscriptionChanges(
      StreamSubscriptionChangesRequest request,
      StreamObserver<StreamSubscriptionChangesResponse> responses) {
    try {
      RequestValidator v = new RequestValidator();
      v.check(
          !request.hasAfterSeq() || request.getAfterSeq() >= 0,
          "after_seq",
          "must not be negative");
      v.check(
          request.getUserIdsCount() <= MAX_STREAM_USER_FILTER,
          "user_ids",
          "at most " + MAX_STREAM_USER_FILTER + " users per stream");
      for (int i = 0; i < request.getUserIdsCount(); i++) {
        v.userId("user_ids[" + i + "]", request.getUserIds(i));
      }
      for (int i = 0; i < request.getKindsCount(); i++) {
        v.check(
            request.getKinds(i) != ChangeKind.UNRECOGNIZED,
            "kinds[" + i + "]",
            "is not a known ChangeKind");
      }
      v.validate();
      Set<ChangeKind> kinds = EnumSet.noneOf(ChangeKind.class);
      request.getKindsList().stream()
          .filter(k -> k != ChangeKind.CHANGE_KIND_UNSPECIFIED)
          .forEach(kinds::add);
      feed.subscribe(
          request.hasAfterSeq() ? request.getAfterSeq() : null,
          new HashSet<>(request.getUserIdsList()),
          kinds,
          (ServerCallStreamObserver<StreamSubscriptionChangesResponse>) responses);
    } catch (RuntimeException e) {
      responses.onError(StatusMapper.toStatus(e, "StreamSubscriptionChanges"));
    }
  }

  @Override
  public void createCheckout(
      CreateCheckoutRequest request, StreamObserver<CreateCheckoutResponse> responses) {
    try {
      new RequestValidator()
          .userId("user_id", request.getUserId())
          .idempotencyKey("idempotency_key", request.getIdempotencyKey())
          .check(
              request.getMode() != CheckoutMode.UNRECOGNIZED, "mode", "is not a known CheckoutMode")
          .maxLength("plan", request.getPlan(), 64)
          .maxLength("credit_package", request.getCreditPackage(), 64)
          .maxLength("coupon", request.getCoupon(), 64)
          .maxLength("success_url", request.getSuccessUrl(), 2048)
          .maxLength("cancel_url", request.getCancelUrl(), 2048)
          .validate();
      responses.onNext(
          CheckoutProtoConverter.toResponse(
              checkout.create(CheckoutProtoConverter.toCommand(request))));
      responses.onCompleted();
    } catch (RuntimeException e) {
      responses.onError(StatusMapper.toStatus(e, "CreateCheckout"));
    }
  }

  @Override
  public void createPortalSession(
      CreatePortalSessionRequest request, StreamObserver<CreatePortalSessionResponse> responses) {
    try {
      new RequestValidator()
          .userId("user_id", request.getUserId())
          .maxLength("return_url", request.getReturnUrl(), 2048)
          .validate();
      responses.onNext(
          CreatePortalSessionResponse.newBuilder()
              .setUrl(checkout.portal(request.getUserId(), request.getReturnUrl()))
              .build());
      responses.onCompleted();
    } catch (RuntimeException e) {
      responses.onError(StatusMapper.toStatus(e, "CreatePortalSession"));
    }
  }

  @Override
  public void listPlans(ListPlansRequest request, StreamObserver<ListPlansResponse> responses) {
    responses.onNext(plans);
    responses.onCompleted();
  }

  @Override
  public void listCreditPackages(
      ListCreditPackagesRequest request, StreamObserver<ListCreditPackagesResponse> responses) {
    responses.onNext(creditPackages);
    responses.onCompleted();
  }
}
