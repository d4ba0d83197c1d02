package dev.billing.client;

import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.CreateCheckoutResponse;
import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.GetEntitlementRequest;
import dev.billing.proto.v1.GrantCreditsRequest;
import dev.billing.proto.v1.GrantCreditsResponse;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.StreamObserver;
import java.io.File;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * A thin client for billing.v1.BillingService: one channel, an optional bearer token on every call,
 * and a deadline on every unary call.
 *
 * <pre>{@code
 * try (BillingClient billing = BillingClient.builder("localhost:9090").bearerToken(token).build()) {
 *   Entitlement e = billing.getEntitlement("user-42");
 * }
 * }</pre>
 */
public final class BillingClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final boolean ownsChannel;
  private final BillingServiceGrpc.BillingServiceBlockingStub blocking;
  private final BillingServiceGrpc.BillingServiceStub async;
  private final Duration deadline;

  private BillingClient(Builder b) {
    this.ownsChannel = b.channel == null;
    if (b.channel != null) {
      this.channel = b.channel;
    } else {
      NettyChannelBuilder cb = NettyChannelBuilder.forTarget(b.target);
      if (b.plaintext) {
        cb.usePlaintext();
      } else {
        try {
          SslContextBuilder ssl = GrpcSslContexts.forClient();
          if (b.trustedCa != null) {
            ssl.trustManager(b.trustedCa);
          }
          if (b.clientCertChain != null) {
            ssl.keyManager(b.clientCertChain, b.clientKey);
          }
          cb.sslContext(ssl.build());
        } catch (SSLException e) {
          throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
        }
      }
      if (b.authority != null) {
        cb.overrideAuthority(b.authority);
      }
      cb.keepAliveTime(30, TimeUnit.SECONDS);
      this.channel = cb.build();
    }
    BillingServiceGrpc.BillingServiceBlockingStub bs = BillingServiceGrpc.newBlockingStub(channel);
    BillingServiceGrpc.BillingServiceStub as = BillingServiceGrpc.newStub(channel);
    if (b.token != null) {
      BearerToken creds = new BearerToken(b.token);
      bs = bs.withCallCredentials(creds);
      as = as.withCallCredentials(creds);
    }
    this.blocking = bs;
    this.async = as;
    this.deadline = b.deadline;
  }

  /** A client for {@code host:port} (plaintext unless {@link Builder#useTls()}). */
  public static Builder builder(String target) {
    return new Builder(target);
  }

  /** A client over a channel the caller owns (tests, custom transports). */
  public static Builder builder(ManagedChannel channel) {
    Builder b = new Builder(null);
    b.channel = channel;
    return b;
  }

  /** The blocking stub with this client's deadline, for calls this class does not wrap. */
  public BillingServiceGrpc.BillingServiceBlockingStub stub() {
    return blocking.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** What the user may do right now. */
  public Entitlement getEntitlement(String userId) {
    return stub()
        .getEntitlement(GetEntitlementRequest.newBuilder().setUserId(userId).build())
        .getEntitlement();
  }

  /** Grants credits; retrying with the same idempotency key is safe. */
  public GrantCreditsResponse grantCredits(
      String userId, long amount, String idempotencyKey, String reason) {
    return stub()
        .grantCredits(
            GrantCreditsRequest.newBuilder()
                .setUserId(userId)
                .setAmount(amount)
                .setIdempotencyKey(idempotencyKey)
                .setReason(reason == null ? "" : reason)
                .build());
  }

  /**
   * Records {@code quantity} units of a metered feature; {@code enforce} refuses
   * (FAILED_PRECONDITION, reason LIMIT_REACHED) instead of going past the allowance. Retrying with
   * the same idempotency key returns the first answer ({@code replayed}).
   */
  public dev.billing.proto.v1.RecordUsageResponse recordUsage(
      String userId, String metric, long quantity, String idempotencyKey, boolean enforce) {
    return stub()
        .recordUsage(
            dev.billing.proto.v1.RecordUsageRequest.newBuilder()
                .setUserId(userId)
                .setMetric(metric)
                .setQuantity(quantity)
                .setIdempotencyKey(idempotencyKey)
                .setMode(
                    enforce
                        ? dev.billing.proto.v1.UsageMode.USAGE_MODE_ENFORCE
                        : dev.billing.proto.v1.UsageMode.USAGE_MODE_RECORD)
                .build());
  }

  /**
   * May the user use {@code quantity} more of {@code metric} now? Answered from the server's memory
   * (no database read), exact with respect to every committed record; {@code reason} says why not.
   */
  public dev.billing.proto.v1.CheckUsageResponse checkUsage(
      String userId, String metric, long quantity) {
    return stub()
        .checkUsage(
            dev.billing.proto.v1.CheckUsageRequest.newBuilder()
                .setUserId(userId)
                .setMetric(metric)
                .setQuantity(quantity)
                .build());
  }

  /**
   * What moving the user to {@code plan} would cost ({@code now}: prorated and charged at once;
   * else at the end of the period), from Stripe's invoice preview. Nothing changes.
   */
  public dev.billing.proto.v1.PreviewPlanChangeResponse previewPlanChange(
      String userId, String plan, boolean now) {
    return stub()
        .previewPlanChange(
            dev.billing.proto.v1.PreviewPlanChangeRequest.newBuilder()
                .setUserId(userId)
                .setPlan(plan)
                .setTiming(
                    now
                        ? dev.billing.proto.v1.ChangeTiming.CHANGE_TIMING_NOW
                        : dev.billing.proto.v1.ChangeTiming.CHANGE_TIMING_PERIOD_END)
                .build());
  }

  /**
   * Moves the user to {@code plan} now: the prorations are invoiced and charged to the saved card;
   * FAILED_PRECONDITION {@code PAYMENT_FAILED} when it is declined (the old plan stays). The tier
   * follows once Stripe's event arrives. Retrying with the same key returns the first answer.
   */
  public dev.billing.proto.v1.ChangePlanResponse changePlan(
      String userId, String plan, String idempotencyKey) {
    return changePlan(
        userId, plan, dev.billing.proto.v1.ChangeTiming.CHANGE_TIMING_NOW, idempotencyKey);
  }

  /**
   * Moves the user to {@code plan} at the end of the current period (a downgrade at renewal);
   * GetEntitlement shows it as {@code pending_plan_change} until then.
   */
  public dev.billing.proto.v1.ChangePlanResponse changePlanAtPeriodEnd(
      String userId, String plan, String idempotencyKey) {
    return changePlan(
        userId, plan, dev.billing.proto.v1.ChangeTiming.CHANGE_TIMING_PERIOD_END, idempotencyKey);
  }

  private dev.billing.proto.v1.ChangePlanResponse changePlan(
      String userId, String plan, dev.billing.proto.v1.ChangeTiming timing, String idempotencyKey) {
    return stub()
        .changePlan(
            dev.billing.proto.v1.ChangePlanRequest.newBuilder()
                .setUserId(userId)
                .setPlan(plan)
                .setTiming(timing)
                .setIdempotencyKey(idempotencyKey)
                .build());
  }

  /** Withdraws the plan change scheduled for the end of the period. */
  public dev.billing.proto.v1.CancelPendingPlanChangeResponse cancelPendingPlanChange(
      String userId) {
    return stub()
        .cancelPendingPlanChange(
            dev.billing.proto.v1.CancelPendingPlanChangeRequest.newBuilder()
                .setUserId(userId)
                .build());
  }

  /**
   * A PaymentIntent for a credit package, for the product's own payment form: confirm it with
   * {@code client_secret} (Stripe.js); the credits are added once Stripe reports it paid.
   */
  public dev.billing.proto.v1.CreatePaymentIntentResponse createPaymentIntent(
      String userId, String creditPackage, String idempotencyKey) {
    return stub()
        .createPaymentIntent(
            dev.billing.proto.v1.CreatePaymentIntentRequest.newBuilder()
                .setUserId(userId)
                .setCreditPackage(creditPackage)
                .setIdempotencyKey(idempotencyKey)
                .build());
  }

  /** A Checkout Session this service created, as Stripe has it now. */
  public dev.billing.proto.v1.GetCheckoutSessionResponse getCheckoutSession(String sessionId) {
    return stub()
        .getCheckoutSession(
            dev.billing.proto.v1.GetCheckoutSessionRequest.newBuilder()
                .setSessionId(sessionId)
                .build());
  }

  /** A SetupIntent that saves a card for the user; confirm it with the client secret. */
  public dev.billing.proto.v1.CreateSetupIntentResponse createSetupIntent(
      String userId, String idempotencyKey) {
    return stub()
        .createSetupIntent(
            dev.billing.proto.v1.CreateSetupIntentRequest.newBuilder()
                .setUserId(userId)
                .setIdempotencyKey(idempotencyKey)
                .build());
  }

  /** The user's saved cards, newest first, with the default marked. */
  public java.util.List<dev.billing.proto.v1.PaymentMethod> listPaymentMethods(String userId) {
    return stub()
        .listPaymentMethods(
            dev.billing.proto.v1.ListPaymentMethodsRequest.newBuilder().setUserId(userId).build())
        .getPaymentMethodsList();
  }

  /** Makes one of the user's saved cards the one renewals and plan changes charge. */
  public void setDefaultPaymentMethod(String userId, String paymentMethodId) {
    var unused =
        stub()
            .setDefaultPaymentMethod(
                dev.billing.proto.v1.SetDefaultPaymentMethodRequest.newBuilder()
                    .setUserId(userId)
                    .setPaymentMethodId(paymentMethodId)
                    .build());
  }

  /** Removes one of the user's saved cards. */
  public void detachPaymentMethod(String userId, String paymentMethodId) {
    var unused =
        stub()
            .detachPaymentMethod(
                dev.billing.proto.v1.DetachPaymentMethodRequest.newBuilder()
                    .setUserId(userId)
                    .setPaymentMethodId(paymentMethodId)
                    .build());
  }

  /**
   * Creates a subscription without Checkout: {@code incomplete} until the page confirms the first
   * payment with {@code client_secret} (Stripe.js confirmPayment), or {@code trialing}.
   */
  public dev.billing.proto.v1.CreateSubscriptionResponse createSubscription(
      String userId, String plan, int trialDays, String paymentMethodId, String idempotencyKey) {
    var b =
        dev.billing.proto.v1.CreateSubscriptionRequest.newBuilder()
            .setUserId(userId)
            .setPlan(plan)
            .setTrialDays(trialDays)
            .setIdempotencyKey(idempotencyKey);
    if (paymentMethodId != null) {
      b.setPaymentMethodId(paymentMethodId);
    }
    return stub().createSubscription(b.build());
  }

  /** The current period's usage of a metric: the newest records and the totals. */
  public dev.billing.proto.v1.ListUsageResponse listUsage(String userId, String metric) {
    return stub()
        .listUsage(
            dev.billing.proto.v1.ListUsageRequest.newBuilder()
                .setUserId(userId)
                .setMetric(metric)
                .build());
  }

  public CreateCheckoutResponse createCheckout(CreateCheckoutRequest request) {
    return stub().createCheckout(request);
  }

  /** Opens a raw change stream (no deadline: streams are long-lived). */
  public void streamChanges(
      StreamSubscriptionChangesRequest request,
      StreamObserver<StreamSubscriptionChangesResponse> observer) {
    async.streamSubscriptionChanges(request, observer);
  }

  /**
   * Subscribes to changes with automatic reconnection: resumes after the last delivered {@code seq}
   * (or after {@code afterSeq}; null = from now), so {@code listener} sees each change exactly
   * once, in order, across disconnects and server restarts.
   *
   * <pre>{@code
   * ChangeSubscription sub = billing.subscribe(savedSeq, List.of(), List.of(), change -> {
   *   apply(change.getEntitlement());          // your logic
   *   saveCursor(change.getSeq());             // persist with your state
   * });
   * }</pre>
   */
  public ChangeSubscription subscribe(
      Long afterSeq, List<String> userIds, List<ChangeKind> kinds, ChangeListener listener) {
    return subscribe(
        afterSeq,
        userIds,
        kinds,
        listener,
        Duration.ofMillis(200),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60));
  }

  /**
   * {@link #subscribe(Long, List, List, ChangeListener)} with explicit reconnection backoff bounds
   * and silence timeout: no change or heartbeat for that long and the stream is dropped and resumed
   * (keep it well above the server's BILLING_STREAM_HEARTBEAT, 15 s by default).
   */
  public ChangeSubscription subscribe(
      Long afterSeq,
      List<String> userIds,
      List<ChangeKind> kinds,
      ChangeListener listener,
      Duration initialBackoff,
      Duration maxBackoff,
      Duration silenceTimeout) {
    ChangeSubscription s =
        new ChangeSubscription(
            async, afterSeq, userIds, kinds, listener, initialBackoff, maxBackoff, silenceTimeout);
    s.start();
    return s;
  }

  @Override
  public void close() {
    if (ownsChannel) {
      channel.shutdown();
      try {
        if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
          channel.shutdownNow();
        }
      } catch (InterruptedException e) {
        channel.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Options for {@link BillingClient}. */
  public static final class Builder {
    private final String target;
    private ManagedChannel channel;
    private String token;
    private Duration deadline = Duration.ofSeconds(5);
    private boolean plaintext = true;
    private File trustedCa;
    private File clientCertChain;
    private File clientKey;
    private String authority;

    private Builder(String target) {
      this.target = target;
    }

    /** The calling service's bearer token. */
    public Builder bearerToken(String token) {
      this.token = token;
      return this;
    }

    /** Deadline for each unary call (default 5 s). */
    public Builder deadline(Duration deadline) {
      this.deadline = deadline;
      return this;
    }

    /** Use TLS with the platform's trust store. */
    public Builder useTls() {
      this.plaintext = false;
      return this;
    }

    /** Use TLS and trust the server certificates signed by this CA (PEM). */
    public Builder trustCertificates(File caPem) {
      this.plaintext = false;
      this.trustedCa = caPem;
      return this;
    }

    /** Mutual TLS: present this certificate chain and key (PEM) to the server. */
    public Builder clientCertificate(File certChainPem, File privateKeyPem) {
      this.plaintext = false;
      this.clientCertChain = certChainPem;
      this.clientKey = privateKeyPem;
      return this;
    }

    /** The name to check the server certificate against, when it differs from the target host. */
    public Builder overrideAuthority(String authority) {
      this.authority = authority;
      return this;
    }

    public BillingClient build() {
      return new BillingClient(this);
    }
  }
}
