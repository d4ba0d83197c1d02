package dev.billing.domain.checkout;

import dev.billing.config.Catalog;
import dev.billing.config.CreditPackage;
import dev.billing.config.Plan;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.gateway.CheckoutSessionResult;
import dev.billing.domain.gateway.CheckoutSessionSpec;
import dev.billing.domain.gateway.CheckoutSessionView;
import dev.billing.domain.gateway.Intent;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.domain.idempotency.Idempotency;
import dev.billing.domain.payment.PaymentRow;
import dev.billing.domain.payment.PaymentService;
import dev.billing.domain.referral.ReferralService;
import dev.billing.error.BillingException;
import dev.billing.error.BillingException.FieldViolation;
import dev.billing.persistence.Transactions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Checkout: plan subscriptions and credit purchases through Stripe's hosted page, and the customer
 * portal. The server maps plan to price; a caller never names a price. The same idempotency key
 * returns the same session (it is kept in checkout_sessions, and Stripe gets a derived key too).
 */
public final class CheckoutService {
  /** Custom credit purchases: at least $1.00, at most $10,000.00. */
  public static final long MIN_CREDIT_AMOUNT = 100;

  public static final long MAX_CREDIT_AMOUNT = Catalog.MAX_CUSTOM_CREDITS_MINOR;
  public static final int MAX_TRIAL_DAYS = 730;
  private static final Pattern COUPON = Pattern.compile("[A-Za-z0-9_\\-]{1,64}");

  private final Transactions tx;
  private final StripeGateway stripe;
  private final Catalog catalog;
  private final UrlPolicy urls;
  private final ReferralService referrals;
  private final CustomerService customers;
  private final PaymentService payments;
  private final dev.billing.domain.entitlement.EntitlementService entitlements;

  public CheckoutService(
      Transactions tx,
      StripeGateway stripe,
      Catalog catalog,
      UrlPolicy urls,
      ReferralService referrals,
      CustomerService customers,
      PaymentService payments,
      dev.billing.domain.entitlement.EntitlementService entitlements) {
    this.entitlements = entitlements;
    this.customers = customers;
    this.payments = payments;
    this.tx = tx;
    this.stripe = stripe;
    this.catalog = catalog;
    this.urls = urls;
    this.referrals = referrals;
  }

  /** What a validated command buys. */
  private record Purchase(
      String plan,
      String priceId,
      String creditPackage,
      long amount,
      String currency,
      long credits) {}

  public CheckoutResult create(CheckoutCommand cmd) {
    Purchase purchase = validate(cmd);
    CheckoutSessionRow existing =
        tx.read(s -> s.store(CheckoutStore.class).findByKey(cmd.userId(), cmd.idempotencyKey()));
    if (existing != null) {
      return replay(existing, cmd, purchase);
    }
    applyReferral(cmd);
    String customerId = customers.getOrCreate(cmd.userId());
    String successUrl =
        cmd.successUrl().isEmpty()
            ? urls.defaultOrigin() + "/billing/success?session_id={CHECKOUT_SESSION_ID}"
            : cmd.successUrl();
    String cancelUrl =
        cmd.cancelUrl().isEmpty() ? urls.defaultOrigin() + "/billing/cancel" : cmd.cancelUrl();
    boolean subscription = cmd.mode() == CheckoutCommand.Mode.SUBSCRIPTION;
    String paymentId =
        subscription
            ? null
            : PaymentService.paymentId("checkout", cmd.userId(), cmd.idempotencyKey());
    Map<String, String> metadata =
        subscription
            ? Map.of("user_id", cmd.userId(), "plan", purchase.plan())
            : Map.of(
                "user_id", cmd.userId(),
                "payment_id", paymentId,
                "credits", Long.toString(purchase.credits()));
    CheckoutSessionSpec spec =
        new CheckoutSessionSpec(
            subscription ? CheckoutSessionSpec.Mode.SUBSCRIPTION : CheckoutSessionSpec.Mode.PAYMENT,
            customerId,
            cmd.userId(),
            purchase.priceId(),
            cmd.trialDays(),
            cmd.coupon().isEmpty() ? null : cmd.coupon(),
            cmd.allowPromotionCodes(),
            purchase.amount(),
            purchase.currency(),
            subscription ? null : purchase.credits() + " credits",
            metadata,
            successUrl,
            cancelUrl);
    String stripeKey =
        "checkout:" + PaymentService.paymentId(cmd.userId(), cmd.idempotencyKey()).substring(4);
    CheckoutSessionResult created;
    try {
      created = stripe.createCheckoutSession(spec, stripeKey);
    } catch (BillingException.InvalidArgument e) {
      if (e.violations().stream().noneMatch(v -> v.field().equals("customer"))) {
        throw e;
      }
      // The remembered customer no longer exists at Stripe (deleted, or another account): replace
      // it.
      String replacement = customers.replaceMissing(cmd.userId(), customerId);
      created =
          stripe.createCheckoutSession(
              spec.withCustomer(replacement), stripeKey + ":" + replacement);
    }
    CheckoutSessionResult session = created;
    CheckoutSessionRow row =
        new CheckoutSessionRow(
            session.id(),
            cmd.userId(),
            cmd.idempotencyKey(),
            subscription ? "subscription" : "credits",
            purchase.plan(),
            purchase.creditPackage(),
            session.amountTotal() > 0
                ? session.amountTotal()
                : subscription ? 0 : purchase.amount(),
            session.currency() == null ? purchase.currency() : session.currency(),
            session.url(),
            session.status() == null ? "open" : session.status(),
            session.expiresAt(),
            paymentId,
            fingerprint(cmd));
    return tx.execute(
        uow -> {
          CheckoutStore sessions = uow.store(CheckoutStore.class);
          if (sessions.insertIfAbsent(row) == 0) {
            // A concurrent call with the same key won; Stripe's idempotency gave it the same
            // session.
            return replay(sessions.findByKey(cmd.userId(), cmd.idempotencyKey()), cmd, purchase);
          }
          if (paymentId != null) {
            payments.recordPending(
                uow,
                PaymentRow.create(
                    paymentId,
                    cmd.userId(),
                    PaymentRow.KIND_CREDITS,
                    PaymentRow.PENDING,
                    purchase.amount(),
                    purchase.currency(),
                    purchase.credits(),
                    session.id(),
                    null,
                    null,
                    null,
                    cmd.idempotencyKey(),
                    null));
          }
          return CheckoutResult.of(row);
        });
  }

  /** A PaymentIntent for credits, to be confirmed by the product's own payment form. */
  public record IntentResult(String paymentId, String paymentIntentId, String clientSecret) {}

  /**
   * Creates a PaymentIntent for a credit package or a custom amount, exactly once per key (the same
   * key answers the same intent), and records the purchase as pending: the credits are added
   * exactly once when Stripe reports {@code payment_intent.succeeded}, by the same rules as a
   * Checkout purchase.
   */
  public IntentResult createPaymentIntent(
      String userId, String creditPackage, long amountMinor, String currency, String key) {
    Purchase purchase =
        validate(
            new CheckoutCommand(
                userId,
                CheckoutCommand.Mode.CREDITS,
                "",
                0,
                "",
                false,
                creditPackage,
                amountMinor,
                currency,
                "",
                "",
                key,
                ""));
    String paymentId = PaymentService.paymentId("intent", userId, key);
    String hash = Idempotency.fingerprint(creditPackage, amountMinor, currency);
    String stored =
        Idempotency.once(
            tx,
            "payment_intent",
            userId,
            key,
            hash,
            () -> {
              String customerId = customers.getOrCreate(userId);
              Intent intent =
                  stripe.createPaymentIntent(
                      customerId,
                      purchase.amount(),
                      purchase.currency(),
                      Map.of(
                          "user_id",
                          userId,
                          "payment_id",
                          paymentId,
                          "credits",
                          Long.toString(purchase.credits())),
                      purchase.credits() + " credits",
                      "intent:" + paymentId.substring(4));
              return intent.id() + "|" + intent.clientSecret();
            },
            (uow, result) ->
                payments.recordPending(
                    uow,
                    PaymentRow.create(
                        paymentId,
                        userId,
                        PaymentRow.KIND_CREDITS,
                        PaymentRow.PENDING,
                        purchase.amount(),
                        purchase.currency(),
                        purchase.credits(),
                        null,
                        result.split("\\|", -1)[0],
                        null,
                        null,
                        key,
                        null)));
    String[] f = stored.split("\\|", -1);
    return new IntentResult(paymentId, f[0], f[1]);
  }

  /** A subscription created without Checkout. */
  public record SubscriptionResult(
      String subscriptionId, String status, String clientSecret, boolean replayed) {}

  /**
   * Creates a subscription without Checkout, exactly once per key: {@code incomplete} until the
   * front end confirms the first payment with the returned client secret (Stripe then sends {@code
   * invoice.paid} and {@code customer.subscription.updated} to {@code active}, and the tier
   * follows), or {@code trialing} with trial days. A user who already has a live subscription is
   * refused ({@code ALREADY_SUBSCRIBED}: change its plan instead); a payment method must be the
   * user's.
   */
  public SubscriptionResult createSubscription(
      String userId, String planName, int trialDays, String paymentMethodId, String key) {
    Plan plan = catalog.plan(planName).filter(p -> !p.isFree()).orElse(null);
    List<FieldViolation> v = new ArrayList<>();
    if (plan == null) {
      v.add(new FieldViolation("plan", "must be a paid plan of the catalog (see ListPlans)"));
    }
    if (trialDays < 0 || trialDays > MAX_TRIAL_DAYS) {
      v.add(new FieldViolation("trial_days", "must be between 0 and " + MAX_TRIAL_DAYS));
    }
    if (!v.isEmpty()) {
      throw new BillingException.InvalidArgument(v);
    }
    String hash = Idempotency.fingerprint(planName, trialDays, paymentMethodId);
    boolean[] ran = {false};
    String stored =
        Idempotency.once(
            tx,
            "create_subscription",
            userId,
            key,
            hash,
            () -> {
              ran[0] = true;
              var current = entitlements.find(userId);
              var status =
                  dev.billing.domain.entitlement.StripeStatus.parseStored(current.status());
              if (current.subscriptionId() != null
                  && (status == dev.billing.domain.entitlement.StripeStatus.ACTIVE
                      || status == dev.billing.domain.entitlement.StripeStatus.TRIALING
                      || status == dev.billing.domain.entitlement.StripeStatus.PAST_DUE)) {
                throw new BillingException.FailedPrecondition(
                    "ALREADY_SUBSCRIBED",
                    "user "
                        + userId
                        + " already has subscription "
                        + current.subscriptionId()
                        + " (change its plan with ChangePlan)");
              }
              String customerId = customers.getOrCreate(userId);
              if (paymentMethodId != null) {
                var card = stripe.retrieveCard(paymentMethodId);
                if (card == null || !customerId.equals(card.customerId())) {
                  throw BillingException.InvalidArgument.of(
                      "payment_method_id", "is not a saved payment method of user " + userId);
                }
              }
              var created =
                  stripe.createSubscription(
                      customerId,
                      plan.priceId(),
                      trialDays,
                      paymentMethodId,
                      Map.of("user_id", userId, "plan", plan.name()),
                      "subscription:" + PaymentService.paymentId(userId, key).substring(4));
              return created.id()
                  + "|"
                  + created.status()
                  + "|"
                  + (created.clientSecret() == null ? "" : created.clientSecret());
            },
            (uow, result) -> {});
    String[] f = stored.split("\\|", -1);
    return new SubscriptionResult(f[0], f[1], f[2].isEmpty() ? null : f[2], !ran[0]);
  }

  /**
   * A Checkout Session this service created, as Stripe has it now; NOT_FOUND for any other (a
   * session id is not a capability to read another service's sessions).
   */
  public CheckoutSessionView session(String sessionId) {
    CheckoutSessionRow ours = tx.read(s -> s.store(CheckoutStore.class).findBySessionId(sessionId));
    if (ours == null) {
      throw new BillingException.NotFound(
          "CHECKOUT_SESSION_NOT_FOUND", "no checkout session " + sessionId + " of this service");
    }
    CheckoutSessionView v = stripe.retrieveCheckoutSession(sessionId);
    return new CheckoutSessionView(
        v.id(),
        v.status(),
        v.paymentStatus(),
        v.mode(),
        v.amountTotal(),
        v.currency(),
        ours.userId());
  }

  /** The customer portal for a user who has a Stripe customer. */
  public String portal(String userId, String returnUrl) {
    if (!returnUrl.isEmpty() && !urls.isAllowed(returnUrl)) {
      throw BillingException.InvalidArgument.of(
          "return_url", "must be under an allowed origin (FRONTEND_URL)");
    }
    String customerId = customers.customerOf(userId);
    if (customerId == null) {
      throw new BillingException.NotFound(
          "NO_CUSTOMER", "user " + userId + " has no Stripe customer yet");
    }
    String target = returnUrl.isEmpty() ? urls.defaultOrigin().toString() : returnUrl;
    // Opening the portal changes nothing; Stripe's key only folds a double click within a minute,
    // and covers what is asked, so another return URL is another session.
    return stripe.createPortalSession(
        customerId,
        target,
        "portal:"
            + Idempotency.fingerprint(userId, target, System.currentTimeMillis() / 60_000)
                .substring(0, 40));
  }

  /** A referral code given at checkout counts if the user is new; a code nobody has is an error. */
  private void applyReferral(CheckoutCommand cmd) {
    if (cmd.referralCode().isEmpty()) {
      return;
    }
    try {
      referrals.apply(cmd.userId(), cmd.referralCode(), Cause.api(cmd.userId()));
    } catch (BillingException.FailedPrecondition e) {
      // Not a new user (or referred before): the checkout goes on without a referral.
    }
  }

  /** Everything a CreateCheckout asks, so a key reused for anything else is refused. */
  static String fingerprint(CheckoutCommand cmd) {
    return Idempotency.fingerprint(
        cmd.mode(),
        cmd.plan(),
        cmd.trialDays(),
        cmd.coupon(),
        cmd.allowPromotionCodes(),
        cmd.creditPackage(),
        cmd.amountMinor(),
        cmd.currency().toLowerCase(java.util.Locale.ROOT),
        cmd.successUrl(),
        cmd.cancelUrl(),
        cmd.referralCode());
  }

  private CheckoutResult replay(
      CheckoutSessionRow existing, CheckoutCommand cmd, Purchase purchase) {
    if (existing.requestHash() != null) {
      if (!existing.requestHash().equals(fingerprint(cmd))) {
        throw new BillingException.FailedPrecondition(
            "IDEMPOTENCY_KEY_REUSED", "idempotency_key was already used for a different checkout");
      }
      return CheckoutResult.of(existing);
    }
    // A session stored before requests were fingerprinted: compare what it recorded.
    boolean same =
        existing
                .mode()
                .equals(
                    cmd.mode() == CheckoutCommand.Mode.SUBSCRIPTION ? "subscription" : "credits")
            && Objects.equals(existing.plan(), purchase.plan())
            && Objects.equals(existing.creditPackage(), purchase.creditPackage())
            && (purchase.plan() != null || existing.amount() == purchase.amount());
    if (!same) {
      throw new BillingException.FailedPrecondition(
          "IDEMPOTENCY_KEY_REUSED", "idempotency_key was already used for a different checkout");
    }
    return CheckoutResult.of(existing);
  }

  private Purchase validate(CheckoutCommand cmd) {
    List<FieldViolation> v = new ArrayList<>();
    if (!cmd.successUrl().isEmpty() && !urls.isAllowed(cmd.successUrl())) {
      v.add(new FieldViolation("success_url", "must be under an allowed origin (FRONTEND_URL)"));
    }
    if (!cmd.cancelUrl().isEmpty() && !urls.isAllowed(cmd.cancelUrl())) {
      v.add(new FieldViolation("cancel_url", "must be under an allowed origin (FRONTEND_URL)"));
    }
    Purchase purchase = null;
    if (cmd.mode() == null) {
      v.add(
          new FieldViolation(
              "mode", "must be CHECKOUT_MODE_SUBSCRIPTION or CHECKOUT_MODE_CREDITS"));
    } else if (cmd.mode() == CheckoutCommand.Mode.SUBSCRIPTION) {
      Plan plan = cmd.plan().isEmpty() ? null : catalog.plan(cmd.plan()).orElse(null);
      if (plan == null || plan.isFree()) {
        v.add(new FieldViolation("plan", "must be a paid plan of the catalog (see ListPlans)"));
      }
      if (cmd.trialDays() < 0 || cmd.trialDays() > MAX_TRIAL_DAYS) {
        v.add(new FieldViolation("trial_days", "must be between 0 and " + MAX_TRIAL_DAYS));
      }
      if (!cmd.coupon().isEmpty() && cmd.allowPromotionCodes()) {
        v.add(
            new FieldViolation(
                "coupon",
                "cannot be combined with allow_promotion_codes (Stripe accepts one or the other)"));
      } else if (!cmd.coupon().isEmpty() && !COUPON.matcher(cmd.coupon()).matches()) {
        v.add(
            new FieldViolation("coupon", "must be a Stripe coupon id (letters, digits, _ and -)"));
      }
      if (!cmd.creditPackage().isEmpty() || cmd.amountMinor() != 0) {
        v.add(new FieldViolation("credit_package", "only for CHECKOUT_MODE_CREDITS"));
      }
      if (plan != null && !plan.isFree()) {
        purchase =
            new Purchase(plan.name(), plan.priceId(), null, plan.amountMinor(), plan.currency(), 0);
      }
    } else {
      if (!cmd.plan().isEmpty()
          || cmd.trialDays() != 0
          || !cmd.coupon().isEmpty()
          || cmd.allowPromotionCodes()) {
        v.add(
            new FieldViolation(
                "plan",
                "plan, trial_days, coupon and allow_promotion_codes are for subscriptions"));
      }
      String currency =
          cmd.currency().isEmpty() ? Catalog.CREDITS_CURRENCY : cmd.currency().toLowerCase();
      if (!cmd.creditPackage().isEmpty() && cmd.amountMinor() != 0) {
        v.add(
            new FieldViolation("credit_package", "give either credit_package or amount, not both"));
      } else if (!cmd.creditPackage().isEmpty()) {
        CreditPackage pkg = catalog.creditPackage(cmd.creditPackage()).orElse(null);
        if (pkg == null) {
          v.add(
              new FieldViolation(
                  "credit_package",
                  "must be a credit package of the catalog (see ListCreditPackages)"));
        } else if (!pkg.currency().equals(currency)) {
          v.add(
              new FieldViolation(
                  "amount.currency", "package " + pkg.id() + " is sold in " + pkg.currency()));
        } else {
          purchase =
              new Purchase(null, null, pkg.id(), pkg.amountMinor(), pkg.currency(), pkg.credits());
        }
      } else if (cmd.amountMinor() == 0) {
        v.add(new FieldViolation("credit_package", "give a credit_package or an amount"));
      } else if (cmd.amountMinor() < MIN_CREDIT_AMOUNT || cmd.amountMinor() > MAX_CREDIT_AMOUNT) {
        v.add(
            new FieldViolation(
                "amount.amount_minor",
                "must be between "
                    + MIN_CREDIT_AMOUNT
                    + " and "
                    + MAX_CREDIT_AMOUNT
                    + " minor units"));
      } else if (!Catalog.CREDITS_CURRENCY.equals(currency)) {
        v.add(new FieldViolation("amount.currency", "credits are sold in usd (1 credit = $0.01)"));
      } else {
        purchase = new Purchase(null, null, null, cmd.amountMinor(), currency, cmd.amountMinor());
      }
    }
    if (!v.isEmpty()) {
      throw new BillingException.InvalidArgument(v);
    }
    return purchase;
  }
}
