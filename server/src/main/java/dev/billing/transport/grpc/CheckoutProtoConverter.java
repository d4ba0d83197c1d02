package dev.billing.transport.grpc;

import com.google.protobuf.Timestamp;
import dev.billing.config.Catalog;
import dev.billing.domain.checkout.CheckoutCommand;
import dev.billing.domain.checkout.CheckoutResult;
import dev.billing.proto.v1.CheckoutStatus;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.CreateCheckoutResponse;
import dev.billing.proto.v1.CreditPackage;
import dev.billing.proto.v1.ListCreditPackagesResponse;
import dev.billing.proto.v1.ListPlansResponse;
import dev.billing.proto.v1.Money;
import dev.billing.proto.v1.Plan;

/** Checkout and catalog messages to and from the domain. */
public final class CheckoutProtoConverter {
  private CheckoutProtoConverter() {}

  public static CheckoutCommand toCommand(CreateCheckoutRequest r) {
    CheckoutCommand.Mode mode =
        switch (r.getMode()) {
          case CHECKOUT_MODE_SUBSCRIPTION -> CheckoutCommand.Mode.SUBSCRIPTION;
          case CHECKOUT_MODE_CREDITS -> CheckoutCommand.Mode.CREDITS;
          default -> null;
        };
    return new CheckoutCommand(
        r.getUserId(),
        mode,
        r.getPlan(),
        r.getTrialDays(),
        r.getCoupon(),
        r.getAllowPromotionCodes(),
        r.getCreditPackage(),
        r.hasAmount() ? r.getAmount().getAmountMinor() : 0,
        r.hasAmount() ? r.getAmount().getCurrency() : "",
        r.getSuccessUrl(),
        r.getCancelUrl(),
        r.getIdempotencyKey(),
        r.getReferralCode());
  }

  public static CreateCheckoutResponse toResponse(CheckoutResult result) {
    CreateCheckoutResponse.Builder b =
        CreateCheckoutResponse.newBuilder()
            .setSessionId(result.sessionId())
            .setUrl(result.url())
            .setStatus(
                switch (result.status()) {
                  case "complete" -> CheckoutStatus.CHECKOUT_STATUS_COMPLETE;
                  case "expired" -> CheckoutStatus.CHECKOUT_STATUS_EXPIRED;
                  default -> CheckoutStatus.CHECKOUT_STATUS_OPEN;
                })
            .setAmount(
                Money.newBuilder()
                    .setAmountMinor(result.amountMinor())
                    .setCurrency(result.currency()))
            .setExpiresAt(Timestamp.newBuilder().setSeconds(result.expiresAt()));
    if (result.paymentId() != null) {
      b.setPaymentId(result.paymentId());
    }
    return b.build();
  }

  public static ListPlansResponse plans(Catalog catalog) {
    ListPlansResponse.Builder b = ListPlansResponse.newBuilder();
    for (dev.billing.config.Plan p : catalog.plans()) {
      b.addPlans(
          Plan.newBuilder()
              .setName(p.name())
              .setPriceId(p.priceId() == null ? "" : p.priceId())
              .setRank(p.rank())
              .addAllFeatures(p.features())
              .putAllLimits(p.limits())
              .setPrice(
                  Money.newBuilder().setAmountMinor(p.amountMinor()).setCurrency(p.currency()))
              .setInterval(p.interval()));
    }
    return b.build();
  }

  public static ListCreditPackagesResponse creditPackages(Catalog catalog) {
    ListCreditPackagesResponse.Builder b = ListCreditPackagesResponse.newBuilder();
    for (dev.billing.config.CreditPackage p : catalog.creditPackages()) {
      b.addCreditPackages(
          CreditPackage.newBuilder()
              .setId(p.id())
              .setCredits(p.credits())
              .setPrice(
                  Money.newBuilder().setAmountMinor(p.amountMinor()).setCurrency(p.currency())));
    }
    return b.build();
  }
}
