package dev.billing.transport.grpc;

import dev.billing.config.Catalog;
import dev.billing.config.Metric;
import dev.billing.domain.audit.AuditEntry;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.checkout.CheckoutService;
import dev.billing.domain.credits.CreditResult;
import dev.billing.domain.credits.CreditService;
import dev.billing.domain.credits.LedgerEntry;
import dev.billing.domain.customer.PaymentMethods;
import dev.billing.domain.customer.UserIds;
import dev.billing.domain.inbox.StoredEvent;
import dev.billing.domain.inbox.WebhookProcessor;
import dev.billing.domain.payment.PaymentOperations;
import dev.billing.domain.payment.PaymentRow;
import dev.billing.domain.reconcile.Reconciler;
import dev.billing.domain.referral.ReferralService;
import dev.billing.domain.subscription.CancellationService;
import dev.billing.domain.subscription.PlanChangeService;
import dev.billing.domain.usage.MeterEventRow;
import dev.billing.domain.usage.MeterReporter;
import dev.billing.domain.usage.UsageRecordRow;
import dev.billing.domain.usage.UsageResult;
import dev.billing.domain.usage.UsageService;
import dev.billing.proto.v1.ApplyReferralCodeRequest;
import dev.billing.proto.v1.ApplyReferralCodeResponse;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.CancelMode;
import dev.billing.proto.v1.CancelPendingPlanChangeRequest;
import dev.billing.proto.v1.CancelPendingPlanChangeResponse;
import dev.billing.proto.v1.CancelSubscriptionRequest;
import dev.billing.proto.v1.CancelSubscriptionResponse;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.ChangePlanRequest;
import dev.billing.proto.v1.ChangePlanResponse;
import dev.billing.proto.v1.ChangeTiming;
import dev.billing.proto.v1.CheckUsageRequest;
import dev.billing.proto.v1.CheckUsageResponse;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.ConsumeCreditsRequest;
import dev.billing.proto.v1.ConsumeCreditsResponse;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.CreateCheckoutResponse;
import dev.billing.proto.v1.CreatePaymentIntentRequest;
import dev.billing.proto.v1.CreatePaymentIntentResponse;
import dev.billing.proto.v1.CreatePortalSessionRequest;
import dev.billing.proto.v1.CreatePortalSessionResponse;
import dev.billing.proto.v1.CreateSetupIntentRequest;
import dev.billing.proto.v1.CreateSetupIntentResponse;
import dev.billing.proto.v1.CreateSubscriptionRequest;
import dev.billing.proto.v1.CreateSubscriptionResponse;
import dev.billing.proto.v1.DetachPaymentMethodRequest;
import dev.billing.proto.v1.DetachPaymentMethodResponse;
import dev.billing.proto.v1.GetCheckoutSessionRequest;
import dev.billing.proto.v1.GetCheckoutSessionResponse;
import dev.billing.proto.v1.GetEntitlementRequest;
import dev.billing.proto.v1.GetEntitlementResponse;
import dev.billing.proto.v1.GetPaymentRequest;
import dev.billing.proto.v1.GetPaymentResponse;
import dev.billing.proto.v1.GetReferralCodeRequest;
import dev.billing.proto.v1.GetReferralCodeResponse;
import dev.billing.proto.v1.GrantCreditsRequest;
import dev.billing.proto.v1.GrantCreditsResponse;
import dev.billing.proto.v1.InvoiceLine;
import dev.billing.proto.v1.ListAuditEntriesRequest;
import dev.billing.proto.v1.ListAuditEntriesResponse;
import dev.billing.proto.v1.ListCreditPackagesRequest;
import dev.billing.proto.v1.ListCreditPackagesResponse;
import dev.billing.proto.v1.ListCreditTransactionsRequest;
import dev.billing.proto.v1.ListCreditTransactionsResponse;
import dev.billing.proto.v1.ListMeterEventsRequest;
import dev.billing.proto.v1.ListMeterEventsResponse;
import dev.billing.proto.v1.ListPaymentMethodsRequest;
import dev.billing.proto.v1.ListPaymentMethodsResponse;
import dev.billing.proto.v1.ListPaymentsRequest;
import dev.billing.proto.v1.ListPaymentsResponse;
import dev.billing.proto.v1.ListPlansRequest;
import dev.billing.proto.v1.ListPlansResponse;
import dev.billing.proto.v1.ListUsageRequest;
import dev.billing.proto.v1.ListUsageResponse;
import dev.billing.proto.v1.ListWebhookEventsRequest;
import dev.billing.proto.v1.ListWebhookEventsResponse;
import dev.billing.proto.v1.MeterEvent;
import dev.billing.proto.v1.Money;
import dev.billing.proto.v1.PaymentMethod;
import dev.billing.proto.v1.PendingPlanChange;
import dev.billing.proto.v1.PreviewPlanChangeRequest;
import dev.billing.proto.v1.PreviewPlanChangeResponse;
import dev.billing.proto.v1.ReconcileDrift;
import dev.billing.proto.v1.ReconcileWithStripeRequest;
import dev.billing.proto.v1.ReconcileWithStripeResponse;
import dev.billing.proto.v1.RecordUsageRequest;
import dev.billing.proto.v1.RecordUsageResponse;
import dev.billing.proto.v1.RefundPaymentRequest;
import dev.billing.proto.v1.RefundPaymentResponse;
import dev.billing.proto.v1.ReplayWebhookEventRequest;
import dev.billing.proto.v1.ReplayWebhookEventResponse;
import dev.billing.proto.v1.SetDefaultPaymentMethodRequest;
import dev.billing.proto.v1.SetDefaultPaymentMethodResponse;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.proto.v1.UsageMode;
import dev.billing.proto.v1.UsageReason;
import dev.billing.proto.v1.UsageRecord;
import dev.billing.transport.grpc.stream.StreamHub;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/** billing.v1.BillingService: validates, converts and delegates to the domain services. */
public final class BillingGrpcService extends BillingServiceGrpc.BillingServiceImplBase {
  private static final int MAX_STREAM_USER_FILTER = 1000;
  private static final Pattern PAYMENT_ID = Pattern.compile("pay_[0-9a-f]{24}");
  private static final Pattern SUBSCRIPTION_ID = Pattern.compile("sub_[A-Za-z0-9_]{1,250}");
  private static final Pattern EVENT_ID = Pattern.compile("evt_[A-Za-z0-9_]{1,250}");
  private static final Pattern REFERRAL_CODE = Pattern.compile("[A-Za-z0-9]{4,32}");

  /** The domain services behind the API. */
  public record Services(
      EntitlementSnapshots entitlements,
      CreditService credits,
      StreamHub feed,
      CheckoutService checkout,
      PaymentOperations payments,
      CancellationService cancellations,
      ReferralService referrals,
      AuditLog audit,
      WebhookProcessor webhooks,
      Reconciler reconciler,
      UsageService usage,
      MeterReporter meters,
      PlanChangeService planChanges,
      PaymentMethods paymentMethods,
      Catalog catalog) {}

  private final Services s;
  private final ListPlansResponse plans;
  private final ListCreditPackagesResponse creditPackages;

  public BillingGrpcService(Services services) {
    this.s = services;
    this.plans = CheckoutProtoConverter.plans(services.catalog());
    this.creditPackages = CheckoutProtoConverter.creditPackages(services.catalog());
  }

  /** Runs a unary call: the one place where exceptions become statuses. */
  private static <T> void unary(String method, StreamObserver<T> responses, Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      responses.onError(StatusMapper.toStatus(e, method));
      return;
    }
    responses.onNext(response);
    responses.onCompleted();
  }

  private static Cause caller() {
    return Cause.api(CallerContext.caller());
  }

  @Override
  public void getEntitlement(
      GetEntitlementRequest request, StreamObserver<GetEntitlementResponse> responses) {
    // The hot path, on the transport thread: no validator allocation unless the id is bad, and a
    // cache hit is answered here; a miss is loaded off this thread.
    String userId = request.getUserId();
    if (!UserIds.isValid(userId)) {
      unary(
          "GetEntitlement",
          responses,
          () -> {
            new RequestValidator().userId("user_id", userId).validate();
            return null;
          });
      return;
    }
    fromSnapshot("GetEntitlement", userId, responses, EntitlementSnapshots.Snapshot::response);
  }

  /**
   * Answers from the user's in-memory snapshot: on this (transport) thread on a hit, after a load
   * off it on a miss.
   */
  private <T> void fromSnapshot(
      String method,
      String userId,
      StreamObserver<T> responses,
      java.util.function.Function<EntitlementSnapshots.Snapshot, T> answer) {
    EntitlementSnapshots.Snapshot hit = s.entitlements().snapshotIfCached(userId);
    if (hit != null) {
      responses.onNext(answer.apply(hit));
      responses.onCompleted();
      return;
    }
    s.entitlements()
        .loadAsync(
            userId,
            (loaded, error) -> {
              if (error != null) {
                responses.onError(StatusMapper.toStatus(error, method));
              } else {
                responses.onNext(answer.apply(loaded));
                responses.onCompleted();
              }
            });
  }

  @Override
  public void checkUsage(CheckUsageRequest request, StreamObserver<CheckUsageResponse> responses) {
    // A hot path like GetEntitlement: answered on the transport thread from the snapshot, which
    // every committed usage record updates; a miss is loaded off this thread.
    String userId = request.getUserId();
    Metric metric = s.catalog().metrics().get(request.getMetric());
    long q = request.getQuantity() == 0 ? 1 : request.getQuantity();
    if (!UserIds.isValid(userId)
        || metric == null
        || Math.abs(q) > MAX_USAGE_QUANTITY
        || (q < 0 && metric.reset() != Metric.Reset.NEVER)) {
      unary(
          "CheckUsage",
          responses,
          () -> {
            usageQuantity(new RequestValidator().userId("user_id", userId), request.getMetric(), q)
                .validate();
            return null;
          });
      return;
    }
    String metricName = request.getMetric();
    fromSnapshot("CheckUsage", userId, responses, snap -> checked(snap, metricName, q));
  }

  private CheckUsageResponse checked(EntitlementSnapshots.Snapshot snap, String metric, long q) {
    UsageResult r = s.usage().check(snap.row(), snap.counters(), metric, q);
    CheckUsageResponse.Builder b =
        CheckUsageResponse.newBuilder()
            .setAllowed(r.allowed())
            .setUsed(r.used())
            .setLimit(r.limit())
            .setRemaining(r.remaining());
    if (r.resetsAt() != null) {
      b.setResetsAt(com.google.protobuf.Timestamp.newBuilder().setSeconds(r.resetsAt()));
    }
    if (r.reason() != null) {
      b.setReason(
          switch (r.reason()) {
            case UsageService.LIMIT_REACHED -> UsageReason.USAGE_REASON_LIMIT_REACHED;
            case UsageService.NOT_IN_PLAN -> UsageReason.USAGE_REASON_NOT_IN_PLAN;
            case UsageService.INSUFFICIENT_CREDITS -> UsageReason.USAGE_REASON_INSUFFICIENT_CREDITS;
            default -> UsageReason.USAGE_REASON_UNSPECIFIED;
          });
    }
    return b.build();
  }

  /** The metric and quantity rules RecordUsage and CheckUsage share. */
  private RequestValidator usageQuantity(RequestValidator v, String metricName, long q) {
    var metrics = s.catalog().metrics();
    Metric metric = metrics.get(metricName);
    return v.check(
            metric != null,
            "metric",
            "must be a metric of the catalog: " + String.join(", ", metrics.keySet()))
        .check(q != 0, "quantity", "must not be 0")
        .check(
            Math.abs(q) <= MAX_USAGE_QUANTITY,
            "quantity",
            "must be at most " + MAX_USAGE_QUANTITY + " units")
        .check(
            q > 0 || metric == null || metric.reset() == Metric.Reset.NEVER,
            "quantity",
            "must be positive for a per-period allowance (negative frees a running one)");
  }

  /** The credit mutation behind GrantCredits and ConsumeCredits. */
  @FunctionalInterface
  private interface CreditMutation {
    CreditResult apply(
        String userId, long amount, String idempotencyKey, String reason, Cause cause);
  }

  private static CreditResult mutateCredits(
      String userId, long amount, String idempotencyKey, String reason, CreditMutation mutation) {
    new RequestValidator()
        .userId("user_id", userId)
        .amount("amount", amount, CreditService.MAX_AMOUNT)
        .idempotencyKey("idempotency_key", idempotencyKey)
        .maxLength("reason", reason, 512)
        .validate();
    return mutation.apply(userId, amount, idempotencyKey, emptyToNull(reason), caller());
  }

  @Override
  public void grantCredits(
      GrantCreditsRequest request, StreamObserver<GrantCreditsResponse> responses) {
    unary(
        "GrantCredits",
        responses,
        () -> {
          CreditResult r =
              mutateCredits(
                  request.getUserId(),
                  request.getAmount(),
                  request.getIdempotencyKey(),
                  request.getReason(),
                  s.credits()::grant);
          return GrantCreditsResponse.newBuilder()
              .setBalance(r.balance())
              .setTransactionId(r.transactionId())
              .setReplayed(r.replayed())
              .build();
        });
  }

  @Override
  public void consumeCredits(
      ConsumeCreditsRequest request, StreamObserver<ConsumeCreditsResponse> responses) {
    unary(
        "ConsumeCredits",
        responses,
        () -> {
          CreditResult r =
              mutateCredits(
                  request.getUserId(),
                  request.getAmount(),
                  request.getIdempotencyKey(),
                  request.getReason(),
                  s.credits()::consume);
          return ConsumeCreditsResponse.newBuilder()
              .setBalance(r.balance())
              .setTransactionId(r.transactionId())
              .setReplayed(r.replayed())
              .build();
        });
  }

  @Override
  public void listCreditTransactions(
      ListCreditTransactionsRequest request,
      StreamObserver<ListCreditTransactionsResponse> responses) {
    unary(
        "ListCreditTransactions",
        responses,
        () -> {
          new RequestValidator().userId("user_id", request.getUserId()).validate();
          PageTokens.Page<LedgerEntry> page =
              PageTokens.newestFirst(
                  request.getPageSize(),
                  request.getPageToken(),
                  (before, limit) -> s.credits().transactions(request.getUserId(), before, limit),
                  LedgerEntry::id);
          ListCreditTransactionsResponse.Builder b =
              ListCreditTransactionsResponse.newBuilder().setNextPageToken(page.nextToken());
          page.rows().forEach(e -> b.addTransactions(CreditProtoConverter.toProto(e)));
          return b.build();
        });
  }

  @Override
  public void listPayments(
      ListPaymentsRequest request, StreamObserver<ListPaymentsResponse> responses) {
    unary(
        "ListPayments",
        responses,
        () -> {
          new RequestValidator().userId("user_id", request.getUserId()).validate();
          PageTokens.Page<PaymentRow> page =
              PageTokens.byOffset(
                  request.getPageSize(),
                  request.getPageToken(),
                  (offset, limit) -> s.payments().list(request.getUserId(), offset, limit));
          ListPaymentsResponse.Builder b =
              ListPaymentsResponse.newBuilder().setNextPageToken(page.nextToken());
          page.rows().forEach(p -> b.addPayments(PaymentProtoConverter.toProto(p)));
          return b.build();
        });
  }

  @Override
  public void getPayment(GetPaymentRequest request, StreamObserver<GetPaymentResponse> responses) {
    unary(
        "GetPayment",
        responses,
        () -> {
          new RequestValidator()
              .check(
                  PAYMENT_ID.matcher(request.getPaymentId()).matches(),
                  "payment_id",
                  "must be a payment id (pay_...)")
              .validate();
          return GetPaymentResponse.newBuilder()
              .setPayment(PaymentProtoConverter.toProto(s.payments().get(request.getPaymentId())))
              .build();
        });
  }

  @Override
  public void refundPayment(
      RefundPaymentRequest request, StreamObserver<RefundPaymentResponse> responses) {
    unary(
        "RefundPayment",
        responses,
        () -> {
          RequestValidator v =
              new RequestValidator()
                  .check(
                      PAYMENT_ID.matcher(request.getPaymentId()).matches(),
                      "payment_id",
                      "must be a payment id (pay_...)")
                  .idempotencyKey("idempotency_key", request.getIdempotencyKey())
                  .maxLength("reason", request.getReason(), 512);
          if (request.hasAmountMinor()) {
            v.amount("amount_minor", request.getAmountMinor(), 100_000_000L);
          }
          v.validate();
          PaymentOperations.Refund r =
              s.payments()
                  .refund(
                      request.getPaymentId(),
                      request.hasAmountMinor() ? request.getAmountMinor() : null,
                      request.getIdempotencyKey(),
                      request.getReason(),
                      caller());
          return RefundPaymentResponse.newBuilder()
              .setRefundId(r.refundId())
              .setPayment(PaymentProtoConverter.toProto(r.payment()))
              .build();
        });
  }

  @Override
  public void cancelSubscription(
      CancelSubscriptionRequest request, StreamObserver<CancelSubscriptionResponse> responses) {
    unary(
        "CancelSubscription",
        responses,
        () -> {
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .check(
                  request.getSubscriptionId().isEmpty()
                      || SUBSCRIPTION_ID.matcher(request.getSubscriptionId()).matches(),
                  "subscription_id",
                  "must be a Stripe subscription id (sub_...)")
              .check(
                  request.getMode() == CancelMode.CANCEL_MODE_AT_PERIOD_END
                      || request.getMode() == CancelMode.CANCEL_MODE_IMMEDIATELY,
                  "mode",
                  "must be CANCEL_MODE_AT_PERIOD_END or CANCEL_MODE_IMMEDIATELY")
              .idempotencyKey("idempotency_key", request.getIdempotencyKey())
              .validate();
          String id =
              s.cancellations()
                  .cancel(
                      request.getUserId(),
                      emptyToNull(request.getSubscriptionId()),
                      request.getMode() == CancelMode.CANCEL_MODE_AT_PERIOD_END,
                      request.getIdempotencyKey(),
                      caller());
          return CancelSubscriptionResponse.newBuilder().setSubscriptionId(id).build();
        });
  }

  @Override
  public void listAuditEntries(
      ListAuditEntriesRequest request, StreamObserver<ListAuditEntriesResponse> responses) {
    unary(
        "ListAuditEntries",
        responses,
        () -> {
          new RequestValidator().userId("user_id", request.getUserId()).validate();
          PageTokens.Page<AuditEntry> page =
              PageTokens.newestFirst(
                  request.getPageSize(),
                  request.getPageToken(),
                  (before, limit) -> s.audit().entries(request.getUserId(), before, limit),
                  AuditEntry::id);
          ListAuditEntriesResponse.Builder b =
              ListAuditEntriesResponse.newBuilder().setNextPageToken(page.nextToken());
          page.rows().forEach(e -> b.addEntries(AuditProtoConverter.toProto(e)));
          return b.build();
        });
  }

  @Override
  public void getReferralCode(
      GetReferralCodeRequest request, StreamObserver<GetReferralCodeResponse> responses) {
    unary(
        "GetReferralCode",
        responses,
        () -> {
          new RequestValidator().userId("user_id", request.getUserId()).validate();
          return GetReferralCodeResponse.newBuilder()
              .setCode(s.referrals().codeFor(request.getUserId()))
              .build();
        });
  }

  @Override
  public void applyReferralCode(
      ApplyReferralCodeRequest request, StreamObserver<ApplyReferralCodeResponse> responses) {
    unary(
        "ApplyReferralCode",
        responses,
        () -> {
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .check(
                  REFERRAL_CODE.matcher(request.getCode()).matches(),
                  "code",
                  "must be a referral code (4-32 letters and digits)")
              .validate();
          ReferralService.Applied a =
              s.referrals().apply(request.getUserId(), request.getCode(), caller());
          return ApplyReferralCodeResponse.newBuilder()
              .setReferrerUserId(a.referrerId())
              .setReplayed(a.replayed())
              .build();
        });
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
      s.feed()
          .subscribe(
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
    unary(
        "CreateCheckout",
        responses,
        () -> {
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .idempotencyKey("idempotency_key", request.getIdempotencyKey())
              .check(
                  request.getMode() != CheckoutMode.UNRECOGNIZED,
                  "mode",
                  "is not a known CheckoutMode")
              .maxLength("plan", request.getPlan(), 64)
              .maxLength("credit_package", request.getCreditPackage(), 64)
              .maxLength("coupon", request.getCoupon(), 64)
              .maxLength("success_url", request.getSuccessUrl(), 2048)
              .maxLength("cancel_url", request.getCancelUrl(), 2048)
              .check(
                  request.getReferralCode().isEmpty()
                      || REFERRAL_CODE.matcher(request.getReferralCode()).matches(),
                  "referral_code",
                  "must be a referral code (4-32 letters and digits)")
              .validate();
          return CheckoutProtoConverter.toResponse(
              s.checkout().create(CheckoutProtoConverter.toCommand(request)));
        });
  }

  @Override
  public void createPortalSession(
      CreatePortalSessionRequest request, StreamObserver<CreatePortalSessionResponse> responses) {
    unary(
        "CreatePortalSession",
        responses,
        () -> {
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .maxLength("return_url", request.getReturnUrl(), 2048)
              .validate();
          return CreatePortalSessionResponse.newBuilder()
              .setUrl(s.checkout().portal(request.getUserId(), request.getReturnUrl()))
              .build();
        });
  }

  @Override
  public void listWebhookEvents(
      ListWebhookEventsRequest request, StreamObserver<ListWebhookEventsResponse> responses) {
    unary(
        "ListWebhookEvents",
        responses,
        () -> {
          String status = WebhookProtoConverter.stored(request.getStatus());
          new RequestValidator()
              .check(status != null, "status", "must be PENDING, PROCESSED or DEAD")
              .validate();
          PageTokens.Page<StoredEvent> page =
              PageTokens.byOffset(
                  request.getPageSize(),
                  request.getPageToken(),
                  (offset, limit) -> s.webhooks().events(status, offset, limit));
          ListWebhookEventsResponse.Builder b =
              ListWebhookEventsResponse.newBuilder().setNextPageToken(page.nextToken());
          page.rows().forEach(e -> b.addEvents(WebhookProtoConverter.toProto(e)));
          return b.build();
        });
  }

  @Override
  public void replayWebhookEvent(
      ReplayWebhookEventRequest request, StreamObserver<ReplayWebhookEventResponse> responses) {
    unary(
        "ReplayWebhookEvent",
        responses,
        () -> {
          new RequestValidator()
              .check(
                  EVENT_ID.matcher(request.getEventId()).matches(),
                  "event_id",
                  "must be a Stripe event id (evt_...)")
              .validate();
          return ReplayWebhookEventResponse.newBuilder()
              .setEvent(WebhookProtoConverter.toProto(s.webhooks().replay(request.getEventId())))
              .build();
        });
  }

  @Override
  public void reconcileWithStripe(
      ReconcileWithStripeRequest request, StreamObserver<ReconcileWithStripeResponse> responses) {
    unary(
        "ReconcileWithStripe",
        responses,
        () -> {
          Long since = request.hasSince() ? request.getSince().getSeconds() : null;
          new RequestValidator()
              .check(
                  since == null || since <= java.time.Instant.now().getEpochSecond(),
                  "since",
                  "must not be in the future")
              .validate();
          Reconciler.Report report = s.reconciler().reconcile(since, request.getDryRun());
          ReconcileWithStripeResponse.Builder b =
              ReconcileWithStripeResponse.newBuilder()
                  .setSince(com.google.protobuf.Timestamp.newBuilder().setSeconds(report.since()))
                  .setEventsListed(report.eventsListed())
                  .setEventsIngested(report.eventsIngested())
                  .setSubscriptionsCompared(report.subscriptionsCompared())
                  .setDryRun(request.getDryRun());
          for (Reconciler.Drift d : report.drift()) {
            b.addDrift(
                ReconcileDrift.newBuilder()
                    .setObjectType(d.objectType())
                    .setObjectId(d.objectId())
                    .setUserId(d.userId() == null ? "" : d.userId())
                    .setOurs(d.ours())
                    .setStripe(d.stripe())
                    .setAction(d.action())
                    .setRepaired(d.repaired()));
          }
          return b.build();
        });
  }

  /** The most units one usage record may carry. */
  private static final long MAX_USAGE_QUANTITY = 1_000_000_000L;

  @Override
  public void recordUsage(
      RecordUsageRequest request, StreamObserver<RecordUsageResponse> responses) {
    unary(
        "RecordUsage",
        responses,
        () -> {
          long q = request.getQuantity();
          usageQuantity(
                  new RequestValidator().userId("user_id", request.getUserId()),
                  request.getMetric(),
                  q)
              .idempotencyKey("idempotency_key", request.getIdempotencyKey())
              .check(
                  request.getMode() == UsageMode.USAGE_MODE_ENFORCE
                      || request.getMode() == UsageMode.USAGE_MODE_RECORD,
                  "mode",
                  "must be USAGE_MODE_ENFORCE or USAGE_MODE_RECORD")
              .validate();
          UsageResult r =
              s.usage()
                  .record(
                      new UsageService.Command(
                          request.getUserId(),
                          request.getMetric(),
                          q,
                          request.getIdempotencyKey(),
                          request.getMode() == UsageMode.USAGE_MODE_ENFORCE),
                      caller());
          RecordUsageResponse.Builder b =
              RecordUsageResponse.newBuilder()
                  .setAllowed(r.allowed())
                  .setUsed(r.used())
                  .setLimit(r.limit())
                  .setRemaining(r.remaining())
                  .setReplayed(r.replayed())
                  .setOverage(r.overage())
                  .setCreditsDebited(r.creditsDebited());
          if (r.resetsAt() != null) {
            b.setResetsAt(com.google.protobuf.Timestamp.newBuilder().setSeconds(r.resetsAt()));
          }
          return b.build();
        });
  }

  @Override
  public void listUsage(ListUsageRequest request, StreamObserver<ListUsageResponse> responses) {
    unary(
        "ListUsage",
        responses,
        () -> {
          var metrics = s.catalog().metrics();
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .check(
                  metrics.containsKey(request.getMetric()),
                  "metric",
                  "must be a metric of the catalog: " + String.join(", ", metrics.keySet()))
              .validate();
          UsageResult[] totals = new UsageResult[1];
          PageTokens.Page<UsageRecordRow> page =
              PageTokens.newestFirst(
                  request.getPageSize(),
                  request.getPageToken(),
                  (before, limit) -> {
                    UsageService.Page p =
                        s.usage().list(request.getUserId(), request.getMetric(), before, limit);
                    totals[0] = p.totals();
                    return p.records();
                  },
                  UsageRecordRow::id);
          ListUsageResponse.Builder b =
              ListUsageResponse.newBuilder()
                  .setUsed(totals[0].used())
                  .setLimit(totals[0].limit())
                  .setRemaining(totals[0].remaining())
                  .setNextPageToken(page.nextToken());
          if (totals[0].resetsAt() != null) {
            b.setResetsAt(
                com.google.protobuf.Timestamp.newBuilder().setSeconds(totals[0].resetsAt()));
          }
          for (UsageRecordRow r : page.rows()) {
            b.addRecords(
                UsageRecord.newBuilder()
                    .setId(r.id())
                    .setMetric(r.metric())
                    .setQuantity(r.quantity())
                    .setIdempotencyKey(r.idempotencyKey())
                    .setOverage(r.overage())
                    .setCreditsDebited(r.creditsDebited())
                    .setRecordedAt(
                        com.google.protobuf.Timestamp.newBuilder().setSeconds(r.createdAt())));
          }
          return b.build();
        });
  }

  private static PlanChangeService.Timing timing(ChangeTiming t) {
    return switch (t) {
      case CHANGE_TIMING_NOW -> PlanChangeService.Timing.NOW;
      case CHANGE_TIMING_PERIOD_END -> PlanChangeService.Timing.PERIOD_END;
      default -> null;
    };
  }

  private static com.google.protobuf.Timestamp seconds(long epochSeconds) {
    return com.google.protobuf.Timestamp.newBuilder().setSeconds(epochSeconds).build();
  }

  private static Money money(long amountMinor, String currency) {
    return Money.newBuilder()
        .setAmountMinor(amountMinor)
        .setCurrency(currency == null ? "" : currency)
        .build();
  }

  @Override
  public void previewPlanChange(
      PreviewPlanChangeRequest request, StreamObserver<PreviewPlanChangeResponse> responses) {
    unary(
        "PreviewPlanChange",
        responses,
        () -> {
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .check(!request.getPlan().isEmpty(), "plan", "is required")
              .check(
                  timing(request.getTiming()) != null,
                  "timing",
                  "must be CHANGE_TIMING_NOW or CHANGE_TIMING_PERIOD_END")
              .validate();
          PlanChangeService.Preview p =
              s.planChanges()
                  .preview(request.getUserId(), request.getPlan(), timing(request.getTiming()));
          PreviewPlanChangeResponse.Builder b =
              PreviewPlanChangeResponse.newBuilder()
                  .setAmountDueNow(money(p.amountDueNow(), p.currency()))
                  .setNextInvoiceAmount(money(p.nextInvoiceAmount(), p.currency()))
                  .setEffectiveAt(seconds(p.effectiveAt()));
          for (var l : p.lines()) {
            b.addLines(
                InvoiceLine.newBuilder()
                    .setDescription(l.description() == null ? "" : l.description())
                    .setAmount(money(l.amount(), p.currency()))
                    .setProration(l.proration())
                    .setPeriodStart(seconds(l.start()))
                    .setPeriodEnd(seconds(l.end())));
          }
          return b.build();
        });
  }

  @Override
  public void changePlan(ChangePlanRequest request, StreamObserver<ChangePlanResponse> responses) {
    unary(
        "ChangePlan",
        responses,
        () -> {
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .check(!request.getPlan().isEmpty(), "plan", "is required")
              .check(
                  timing(request.getTiming()) != null,
                  "timing",
                  "must be CHANGE_TIMING_NOW or CHANGE_TIMING_PERIOD_END")
              .idempotencyKey("idempotency_key", request.getIdempotencyKey())
              .validate();
          PlanChangeService.Result r =
              timing(request.getTiming()) == PlanChangeService.Timing.NOW
                  ? s.planChanges()
                      .changeNow(
                          request.getUserId(),
                          request.getPlan(),
                          request.getIdempotencyKey(),
                          caller())
                  : s.planChanges()
                      .changeAtPeriodEnd(
                          request.getUserId(),
                          request.getPlan(),
                          request.getIdempotencyKey(),
                          caller());
          ChangePlanResponse.Builder b =
              ChangePlanResponse.newBuilder()
                  .setSubscriptionId(r.subscriptionId())
                  .setAmountCharged(money(r.amountCharged(), r.currency()))
                  .setEffectiveAt(seconds(r.effectiveAt()))
                  .setReplayed(r.replayed());
          if (r.invoiceId() != null) {
            b.setInvoiceId(r.invoiceId());
          }
          return b.build();
        });
  }

  @Override
  public void cancelPendingPlanChange(
      CancelPendingPlanChangeRequest request,
      StreamObserver<CancelPendingPlanChangeResponse> responses) {
    unary(
        "CancelPendingPlanChange",
        responses,
        () -> {
          new RequestValidator().userId("user_id", request.getUserId()).validate();
          PlanChangeService.Withdrawn w =
              s.planChanges().cancelPending(request.getUserId(), caller());
          PendingPlanChange.Builder p = PendingPlanChange.newBuilder().setPlan(w.plan());
          if (w.effectiveAt() != null) {
            p.setEffectiveAt(seconds(w.effectiveAt()));
          }
          return CancelPendingPlanChangeResponse.newBuilder().setCancelled(p).build();
        });
  }

  private static final Pattern CHECKOUT_SESSION_ID = Pattern.compile("cs_[A-Za-z0-9_]{1,250}");
  private static final Pattern PAYMENT_METHOD_ID = Pattern.compile("pm_[A-Za-z0-9_]{1,250}");

  @Override
  public void createPaymentIntent(
      CreatePaymentIntentRequest request, StreamObserver<CreatePaymentIntentResponse> responses) {
    unary(
        "CreatePaymentIntent",
        responses,
        () -> {
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .idempotencyKey("idempotency_key", request.getIdempotencyKey())
              .validate();
          CheckoutService.IntentResult r =
              s.checkout()
                  .createPaymentIntent(
                      request.getUserId(),
                      request.getCreditPackage(),
                      request.hasAmount() ? request.getAmount().getAmountMinor() : 0,
                      request.hasAmount() ? request.getAmount().getCurrency() : "",
                      request.getIdempotencyKey());
          return CreatePaymentIntentResponse.newBuilder()
              .setPaymentId(r.paymentId())
              .setPaymentIntentId(r.paymentIntentId())
              .setClientSecret(r.clientSecret())
              .build();
        });
  }

  @Override
  public void getCheckoutSession(
      GetCheckoutSessionRequest request, StreamObserver<GetCheckoutSessionResponse> responses) {
    unary(
        "GetCheckoutSession",
        responses,
        () -> {
          new RequestValidator()
              .check(
                  CHECKOUT_SESSION_ID.matcher(request.getSessionId()).matches(),
                  "session_id",
                  "must be a Checkout Session id (cs_...)")
              .validate();
          var v = s.checkout().session(request.getSessionId());
          GetCheckoutSessionResponse.Builder b =
              GetCheckoutSessionResponse.newBuilder()
                  .setSessionId(v.id())
                  .setAmount(money(v.amountTotal(), v.currency()));
          if (v.status() != null) {
            b.setStatus(v.status());
          }
          if (v.paymentStatus() != null) {
            b.setPaymentStatus(v.paymentStatus());
          }
          if (v.mode() != null) {
            b.setMode(v.mode());
          }
          if (v.userId() != null) {
            b.setUserId(v.userId());
          }
          return b.build();
        });
  }

  @Override
  public void createSetupIntent(
      CreateSetupIntentRequest request, StreamObserver<CreateSetupIntentResponse> responses) {
    unary(
        "CreateSetupIntent",
        responses,
        () -> {
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .idempotencyKey("idempotency_key", request.getIdempotencyKey())
              .validate();
          var intent =
              s.paymentMethods()
                  .createSetupIntent(request.getUserId(), request.getIdempotencyKey());
          return CreateSetupIntentResponse.newBuilder()
              .setSetupIntentId(intent.id())
              .setClientSecret(intent.clientSecret())
              .build();
        });
  }

  @Override
  public void listPaymentMethods(
      ListPaymentMethodsRequest request, StreamObserver<ListPaymentMethodsResponse> responses) {
    unary(
        "ListPaymentMethods",
        responses,
        () -> {
          new RequestValidator().userId("user_id", request.getUserId()).validate();
          ListPaymentMethodsResponse.Builder b = ListPaymentMethodsResponse.newBuilder();
          for (var c : s.paymentMethods().list(request.getUserId())) {
            b.addPaymentMethods(
                PaymentMethod.newBuilder()
                    .setId(c.card().id())
                    .setBrand(c.card().brand() == null ? "" : c.card().brand())
                    .setLast4(c.card().last4() == null ? "" : c.card().last4())
                    .setExpMonth((int) c.card().expMonth())
                    .setExpYear((int) c.card().expYear())
                    .setDefault(c.isDefault()));
          }
          return b.build();
        });
  }

  private static RequestValidator paymentMethodRequest(String userId, String paymentMethodId) {
    return new RequestValidator()
        .userId("user_id", userId)
        .check(
            PAYMENT_METHOD_ID.matcher(paymentMethodId).matches(),
            "payment_method_id",
            "must be a PaymentMethod id (pm_...)");
  }

  @Override
  public void setDefaultPaymentMethod(
      SetDefaultPaymentMethodRequest request,
      StreamObserver<SetDefaultPaymentMethodResponse> responses) {
    unary(
        "SetDefaultPaymentMethod",
        responses,
        () -> {
          paymentMethodRequest(request.getUserId(), request.getPaymentMethodId()).validate();
          s.paymentMethods()
              .setDefault(request.getUserId(), request.getPaymentMethodId(), caller());
          return SetDefaultPaymentMethodResponse.getDefaultInstance();
        });
  }

  @Override
  public void detachPaymentMethod(
      DetachPaymentMethodRequest request, StreamObserver<DetachPaymentMethodResponse> responses) {
    unary(
        "DetachPaymentMethod",
        responses,
        () -> {
          paymentMethodRequest(request.getUserId(), request.getPaymentMethodId()).validate();
          s.paymentMethods().detach(request.getUserId(), request.getPaymentMethodId(), caller());
          return DetachPaymentMethodResponse.getDefaultInstance();
        });
  }

  @Override
  public void createSubscription(
      CreateSubscriptionRequest request, StreamObserver<CreateSubscriptionResponse> responses) {
    unary(
        "CreateSubscription",
        responses,
        () -> {
          String pm = request.getPaymentMethodId();
          new RequestValidator()
              .userId("user_id", request.getUserId())
              .check(!request.getPlan().isEmpty(), "plan", "is required")
              .check(
                  pm.isEmpty() || PAYMENT_METHOD_ID.matcher(pm).matches(),
                  "payment_method_id",
                  "must be a PaymentMethod id (pm_...)")
              .idempotencyKey("idempotency_key", request.getIdempotencyKey())
              .validate();
          CheckoutService.SubscriptionResult r =
              s.checkout()
                  .createSubscription(
                      request.getUserId(),
                      request.getPlan(),
                      request.getTrialDays(),
                      pm.isEmpty() ? null : pm,
                      request.getIdempotencyKey());
          CreateSubscriptionResponse.Builder b =
              CreateSubscriptionResponse.newBuilder()
                  .setSubscriptionId(r.subscriptionId())
                  .setStatus(r.status())
                  .setReplayed(r.replayed());
          if (r.clientSecret() != null) {
            b.setClientSecret(r.clientSecret());
          }
          return b.build();
        });
  }

  private static final Set<String> METER_STATUSES =
      Set.of(MeterEventRow.PENDING, MeterEventRow.SENT, MeterEventRow.DEAD);

  @Override
  public void listMeterEvents(
      ListMeterEventsRequest request, StreamObserver<ListMeterEventsResponse> responses) {
    unary(
        "ListMeterEvents",
        responses,
        () -> {
          String status = request.getStatus().isEmpty() ? MeterEventRow.DEAD : request.getStatus();
          new RequestValidator()
              .check(METER_STATUSES.contains(status), "status", "must be pending, sent or dead")
              .validate();
          PageTokens.Page<MeterEventRow> page =
              PageTokens.newestFirst(
                  request.getPageSize(),
                  request.getPageToken(),
                  (before, limit) -> s.meters().list(status, before, limit),
                  MeterEventRow::id);
          ListMeterEventsResponse.Builder b =
              ListMeterEventsResponse.newBuilder().setNextPageToken(page.nextToken());
          for (MeterEventRow r : page.rows()) {
            MeterEvent.Builder e =
                MeterEvent.newBuilder()
                    .setId(r.id())
                    .setUserId(r.userId())
                    .setMetric(r.metric())
                    .setEventName(r.eventName())
                    .setValue(r.value())
                    .setIdentifier(r.identifier())
                    .setTimestamp(
                        com.google.protobuf.Timestamp.newBuilder().setSeconds(r.eventTs()))
                    .setStatus(r.status())
                    .setAttempts(r.attempts());
            if (r.lastError() != null) {
              e.setLastError(r.lastError());
            }
            b.addEvents(e);
          }
          return b.build();
        });
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

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
