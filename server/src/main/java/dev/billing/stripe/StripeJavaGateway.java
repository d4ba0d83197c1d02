package dev.billing.stripe;

import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.model.checkout.Session;
import com.stripe.net.RequestOptions;
import com.stripe.param.CustomerCreateParams;
import com.stripe.param.RefundCreateParams;
import com.stripe.param.SubscriptionCancelParams;
import com.stripe.param.SubscriptionUpdateParams;
import com.stripe.param.checkout.SessionCreateParams;
import dev.billing.domain.command.SubscriptionSnapshot;
import dev.billing.domain.gateway.CheckoutSessionResult;
import dev.billing.domain.gateway.CheckoutSessionSpec;
import dev.billing.domain.gateway.StripeGateway;

/** {@link StripeGateway} with an instance {@link StripeClient} (never the global API key). */
public final class StripeJavaGateway implements StripeGateway {
  private final StripeClient client;

  public StripeJavaGateway(String secretKey, String apiBase) {
    this.client =
        StripeClient.builder()
            .setApiKey(secretKey)
            .setApiBase(apiBase)
            .setConnectTimeout(5_000)
            .setReadTimeout(20_000)
            .setMaxNetworkRetries(2)
            .build();
  }

  private static RequestOptions idempotent(String key) {
    return RequestOptions.builder().setIdempotencyKey(key).build();
  }

  @Override
  public String createCustomer(String userId, String email, String idempotencyKey) {
    CustomerCreateParams.Builder params =
        CustomerCreateParams.builder().putMetadata("user_id", userId);
    if (email != null) {
      params.setEmail(email);
    }
    try {
      return client.v1().customers().create(params.build(), idempotent(idempotencyKey)).getId();
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public CheckoutSessionResult createCheckoutSession(
      CheckoutSessionSpec spec, String idempotencyKey) {
    SessionCreateParams.Builder p =
        SessionCreateParams.builder()
            .setCustomer(spec.customerId())
            .setClientReferenceId(spec.userId())
            .setSuccessUrl(spec.successUrl())
            .setCancelUrl(spec.cancelUrl())
            .putAllMetadata(spec.metadata());
    if (spec.mode() == CheckoutSessionSpec.Mode.SUBSCRIPTION) {
      SessionCreateParams.SubscriptionData.Builder sub =
          SessionCreateParams.SubscriptionData.builder().putAllMetadata(spec.metadata());
      if (spec.trialDays() > 0) {
        sub.setTrialPeriodDays((long) spec.trialDays());
      }
      p.setMode(SessionCreateParams.Mode.SUBSCRIPTION)
          .addLineItem(
              SessionCreateParams.LineItem.builder()
                  .setPrice(spec.priceId())
                  .setQuantity(1L)
                  .build())
          .setSubscriptionData(sub.build());
      if (spec.coupon() != null) {
        p.addDiscount(SessionCreateParams.Discount.builder().setCoupon(spec.coupon()).build());
      }
      if (spec.allowPromotionCodes()) {
        p.setAllowPromotionCodes(true);
      }
    } else {
      p.setMode(SessionCreateParams.Mode.PAYMENT)
          .addLineItem(
              SessionCreateParams.LineItem.builder()
                  .setQuantity(1L)
                  .setPriceData(
                      SessionCreateParams.LineItem.PriceData.builder()
                          .setCurrency(spec.currency())
                          .setUnitAmount(spec.amountMinor())
                          .setProductData(
                              SessionCreateParams.LineItem.PriceData.ProductData.builder()
                                  .setName(spec.productName())
                                  .build())
                          .build())
                  .build())
          .setPaymentIntentData(
              SessionCreateParams.PaymentIntentData.builder()
                  .putAllMetadata(spec.metadata())
                  .build());
    }
    try {
      Session s = client.v1().checkout().sessions().create(p.build(), idempotent(idempotencyKey));
      return new CheckoutSessionResult(
          s.getId(),
          s.getUrl(),
          s.getStatus(),
          s.getAmountTotal() == null ? 0 : s.getAmountTotal(),
          s.getCurrency(),
          s.getExpiresAt() == null ? 0 : s.getExpiresAt());
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public String createPortalSession(String customerId, String returnUrl, String idempotencyKey) {
    try {
      return client
          .v1()
          .billingPortal()
          .sessions()
          .create(
              com.stripe.param.billingportal.SessionCreateParams.builder()
                  .setCustomer(customerId)
                  .setReturnUrl(returnUrl)
                  .build(),
              idempotent(idempotencyKey))
          .getUrl();
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public void cancelSubscription(
      String subscriptionId, boolean atPeriodEnd, String idempotencyKey) {
    try {
      if (atPeriodEnd) {
        client
            .v1()
            .subscriptions()
            .update(
                subscriptionId,
                SubscriptionUpdateParams.builder().setCancelAtPeriodEnd(true).build(),
                idempotent(idempotencyKey));
      } else {
        client
            .v1()
            .subscriptions()
            .cancel(
                subscriptionId,
                SubscriptionCancelParams.builder().build(),
                idempotent(idempotencyKey));
      }
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public String createRefund(String paymentIntentId, Long amount, String idempotencyKey) {
    RefundCreateParams.Builder p = RefundCreateParams.builder().setPaymentIntent(paymentIntentId);
    if (amount != null) {
      p.setAmount(amount);
    }
    try {
      return client.v1().refunds().create(p.build(), idempotent(idempotencyKey)).getId();
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public SubscriptionSnapshot retrieveSubscription(String subscriptionId) {
    try {
      return StripeEventParser.subscription(
          client.v1().subscriptions().retrieve(subscriptionId).getRawJsonObject());
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }
}
