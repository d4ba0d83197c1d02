package dev.billing.stripe;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.model.checkout.Session;
import com.stripe.net.RequestOptions;
import com.stripe.param.CustomerCreateParams;
import com.stripe.param.EventListParams;
import com.stripe.param.RefundCreateParams;
import com.stripe.param.SubscriptionCancelParams;
import com.stripe.param.SubscriptionListParams;
import com.stripe.param.SubscriptionUpdateParams;
import com.stripe.param.checkout.SessionCreateParams;
import dev.billing.domain.command.SubscriptionSnapshot;
import dev.billing.domain.gateway.CheckoutSessionResult;
import dev.billing.domain.gateway.CheckoutSessionSpec;
import dev.billing.domain.gateway.CheckoutSessionView;
import dev.billing.domain.gateway.Intent;
import dev.billing.domain.gateway.InvoicePreview;
import dev.billing.domain.gateway.PriceChange;
import dev.billing.domain.gateway.SavedCard;
import dev.billing.domain.gateway.StripeGateway;
import java.util.ArrayList;
import java.util.List;

/** {@link StripeGateway} with an instance {@link StripeClient} (never the global API key). */
public final class StripeJavaGateway implements StripeGateway {
  private final StripeClient client;

  /** Whether each new customer gets a test clock of its own (test mode). */
  private final boolean testClocks;

  public StripeJavaGateway(String secretKey, String apiBase) {
    this(secretKey, apiBase, false);
  }

  public StripeJavaGateway(String secretKey, String apiBase, boolean testClocks) {
    this.testClocks = testClocks;
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
      if (testClocks) {
        // Test mode: the customer lives on a clock of its own, so its renewals can be produced on
        // demand (make advance-clock). A clock can only be given when the customer is created.
        params.setTestClock(
            client
                .v1()
                .testHelpers()
                .testClocks()
                .create(
                    com.stripe.param.testhelpers.TestClockCreateParams.builder()
                        .setFrozenTime(java.time.Instant.now().getEpochSecond())
                        .setName("user " + userId)
                        .build(),
                    idempotent(idempotencyKey + ":clock"))
                .getId());
      }
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

  /** The subscription's (first and only) item, whose price a change replaces. */
  private String itemOf(String subscriptionId) throws StripeException {
    JsonObject sub = client.v1().subscriptions().retrieve(subscriptionId).getRawJsonObject();
    return StripeJson.id(StripeJson.firstOfList(sub, "items"), "id");
  }

  @Override
  public InvoicePreview previewPriceChange(
      String subscriptionId, String newPriceId, boolean invoiceNow) {
    try {
      var details =
          com.stripe.param.InvoiceCreatePreviewParams.SubscriptionDetails.builder()
              .addItem(
                  com.stripe.param.InvoiceCreatePreviewParams.SubscriptionDetails.Item.builder()
                      .setId(itemOf(subscriptionId))
                      .setPrice(newPriceId)
                      .build())
              .setProrationBehavior(
                  invoiceNow
                      ? com.stripe.param.InvoiceCreatePreviewParams.SubscriptionDetails
                          .ProrationBehavior.ALWAYS_INVOICE
                      : com.stripe.param.InvoiceCreatePreviewParams.SubscriptionDetails
                          .ProrationBehavior.NONE)
              .build();
      JsonObject invoice =
          client
              .v1()
              .invoices()
              .createPreview(
                  com.stripe.param.InvoiceCreatePreviewParams.builder()
                      .setSubscription(subscriptionId)
                      .setSubscriptionDetails(details)
                      .build())
              .getRawJsonObject();
      List<InvoicePreview.Line> lines = new ArrayList<>();
      JsonElement data = StripeJson.at(invoice, "lines.data");
      if (data != null && data.isJsonArray()) {
        for (JsonElement e : data.getAsJsonArray()) {
          JsonObject l = e.getAsJsonObject();
          Long start = StripeJson.longValue(l, "period.start");
          Long end = StripeJson.longValue(l, "period.end");
          lines.add(
              new InvoicePreview.Line(
                  StripeJson.string(l, "description"),
                  StripeJson.amount(l, "amount"),
                  StripeJson.bool(l, "parent.subscription_item_details.proration")
                      || StripeJson.bool(l, "proration"),
                  start == null ? 0 : start,
                  end == null ? 0 : end));
        }
      }
      Long periodStart = StripeJson.longValue(invoice, "period_start");
      Long periodEnd = StripeJson.longValue(invoice, "period_end");
      return new InvoicePreview(
          StripeJson.amount(invoice, "amount_due"),
          StripeJson.string(invoice, "currency"),
          lines,
          periodStart == null ? 0 : periodStart,
          periodEnd == null ? 0 : periodEnd);
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public PriceChange changePrice(String subscriptionId, String newPriceId, String idempotencyKey) {
    try {
      SubscriptionUpdateParams params =
          SubscriptionUpdateParams.builder()
              .addItem(
                  SubscriptionUpdateParams.Item.builder()
                      .setId(itemOf(subscriptionId))
                      .setPrice(newPriceId)
                      .build())
              .setProrationBehavior(SubscriptionUpdateParams.ProrationBehavior.ALWAYS_INVOICE)
              .setPaymentBehavior(SubscriptionUpdateParams.PaymentBehavior.PENDING_IF_INCOMPLETE)
              .build();
      JsonObject sub =
          client
              .v1()
              .subscriptions()
              .update(subscriptionId, params, idempotent(idempotencyKey))
              .getRawJsonObject();
      String invoiceId = StripeJson.id(sub, "latest_invoice");
      JsonObject invoice =
          invoiceId == null ? null : client.v1().invoices().retrieve(invoiceId).getRawJsonObject();
      boolean pending = StripeJson.object(sub, "pending_update") != null;
      boolean proration =
          invoice != null
              && "subscription_update".equals(StripeJson.string(invoice, "billing_reason"));
      long amount = proration ? StripeJson.amount(invoice, "amount_due") : 0;
      String failure = null;
      if (pending && invoice != null) {
        failure = paymentFailure(invoice);
      }
      return new PriceChange(!pending, proration ? invoiceId : null, amount, failure);
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public String schedulePriceAtPeriodEnd(
      String subscriptionId, String newPriceId, String idempotencyKey) {
    try {
      JsonObject sub = client.v1().subscriptions().retrieve(subscriptionId).getRawJsonObject();
      JsonObject item = StripeJson.firstOfList(sub, "items");
      String currentPrice = StripeJson.id(item, "price");
      Long start = StripeJson.longValue(item, "current_period_start");
      Long end = StripeJson.longValue(item, "current_period_end");
      String scheduleId = StripeJson.id(sub, "schedule");
      if (scheduleId == null) {
        scheduleId =
            client
                .v1()
                .subscriptionSchedules()
                .create(
                    com.stripe.param.SubscriptionScheduleCreateParams.builder()
                        .setFromSubscription(subscriptionId)
                        .build(),
                    idempotent(idempotencyKey + ":schedule"))
                .getId();
      }
      client
          .v1()
          .subscriptionSchedules()
          .update(
              scheduleId,
              com.stripe.param.SubscriptionScheduleUpdateParams.builder()
                  .addPhase(
                      com.stripe.param.SubscriptionScheduleUpdateParams.Phase.builder()
                          .addItem(
                              com.stripe.param.SubscriptionScheduleUpdateParams.Phase.Item.builder()
                                  .setPrice(currentPrice)
                                  .build())
                          .setStartDate(start)
                          .setEndDate(end)
                          .build())
                  .addPhase(
                      com.stripe.param.SubscriptionScheduleUpdateParams.Phase.builder()
                          .addItem(
                              com.stripe.param.SubscriptionScheduleUpdateParams.Phase.Item.builder()
                                  .setPrice(newPriceId)
                                  .build())
                          .setDuration(
                              com.stripe.param.SubscriptionScheduleUpdateParams.Phase.Duration
                                  .builder()
                                  .setInterval(
                                      com.stripe.param.SubscriptionScheduleUpdateParams.Phase
                                          .Duration.Interval.MONTH)
                                  .setIntervalCount(1L)
                                  .build())
                          .build())
                  .setEndBehavior(
                      com.stripe.param.SubscriptionScheduleUpdateParams.EndBehavior.RELEASE)
                  .build(),
              idempotent(idempotencyKey + ":phases"));
      return scheduleId;
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public boolean releaseScheduleOf(String subscriptionId, String idempotencyKey) {
    try {
      String scheduleId =
          StripeJson.id(
              client.v1().subscriptions().retrieve(subscriptionId).getRawJsonObject(), "schedule");
      if (scheduleId == null) {
        return false;
      }
      client
          .v1()
          .subscriptionSchedules()
          .release(
              scheduleId,
              com.stripe.param.SubscriptionScheduleReleaseParams.builder().build(),
              idempotent(idempotencyKey));
      return true;
    } catch (com.stripe.exception.InvalidRequestException e) {
      // Already released (or completed): the subscription goes on alone, as asked.
      if (!String.valueOf(e.getMessage()).contains("released")
          && !String.valueOf(e.getMessage()).contains("completed")) {
        throw StripeErrors.translate(e);
      }
      return true;
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public Intent createPaymentIntent(
      String customerId,
      long amount,
      String currency,
      java.util.Map<String, String> metadata,
      String description,
      String idempotencyKey) {
    try {
      var params =
          com.stripe.param.PaymentIntentCreateParams.builder()
              .setCustomer(customerId)
              .setAmount(amount)
              .setCurrency(currency)
              .putAllMetadata(metadata)
              .setDescription(description)
              .build();
      JsonObject pi =
          client
              .v1()
              .paymentIntents()
              .create(params, idempotent(idempotencyKey))
              .getRawJsonObject();
      return new Intent(
          StripeJson.string(pi, "id"),
          StripeJson.string(pi, "client_secret"),
          StripeJson.string(pi, "status"));
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public Intent createSetupIntent(String customerId, String idempotencyKey) {
    try {
      var params =
          com.stripe.param.SetupIntentCreateParams.builder()
              .setCustomer(customerId)
              .setUsage(com.stripe.param.SetupIntentCreateParams.Usage.OFF_SESSION)
              .build();
      JsonObject seti =
          client.v1().setupIntents().create(params, idempotent(idempotencyKey)).getRawJsonObject();
      return new Intent(
          StripeJson.string(seti, "id"),
          StripeJson.string(seti, "client_secret"),
          StripeJson.string(seti, "status"));
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  private static SavedCard card(JsonObject pm) {
    Long month = StripeJson.longValue(pm, "card.exp_month");
    Long year = StripeJson.longValue(pm, "card.exp_year");
    return new SavedCard(
        StripeJson.string(pm, "id"),
        StripeJson.id(pm, "customer"),
        StripeJson.string(pm, "card.brand"),
        StripeJson.string(pm, "card.last4"),
        month == null ? 0 : month,
        year == null ? 0 : year);
  }

  @Override
  public Cards listCards(String customerId) {
    try {
      String body =
          client
              .rawRequest(
                  com.stripe.net.ApiResource.RequestMethod.GET,
                  "/v1/payment_methods?type=card&limit=100&customer="
                      + java.net.URLEncoder.encode(
                          customerId, java.nio.charset.StandardCharsets.UTF_8),
                  null,
                  null)
              .body();
      List<SavedCard> cards = new ArrayList<>();
      for (JsonElement e : JsonParser.parseString(body).getAsJsonObject().getAsJsonArray("data")) {
        cards.add(card(e.getAsJsonObject()));
      }
      JsonObject customer = client.v1().customers().retrieve(customerId).getRawJsonObject();
      return new Cards(cards, StripeJson.id(customer, "invoice_settings.default_payment_method"));
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public SavedCard retrieveCard(String paymentMethodId) {
    try {
      return card(client.v1().paymentMethods().retrieve(paymentMethodId).getRawJsonObject());
    } catch (com.stripe.exception.InvalidRequestException e) {
      if ("resource_missing".equals(e.getCode())) {
        return null;
      }
      throw StripeErrors.translate(e);
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public void setDefaultPaymentMethod(
      String customerId, String paymentMethodId, String idempotencyKey) {
    try {
      client
          .v1()
          .customers()
          .update(
              customerId,
              com.stripe.param.CustomerUpdateParams.builder()
                  .setInvoiceSettings(
                      com.stripe.param.CustomerUpdateParams.InvoiceSettings.builder()
                          .setDefaultPaymentMethod(paymentMethodId)
                          .build())
                  .build(),
              idempotent(idempotencyKey));
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public void detachPaymentMethod(String paymentMethodId, String idempotencyKey) {
    try {
      client
          .v1()
          .paymentMethods()
          .detach(
              paymentMethodId,
              com.stripe.param.PaymentMethodDetachParams.builder().build(),
              idempotent(idempotencyKey));
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public CheckoutSessionView retrieveCheckoutSession(String sessionId) {
    try {
      JsonObject s = client.v1().checkout().sessions().retrieve(sessionId).getRawJsonObject();
      Long total = StripeJson.amount(s, "amount_total");
      return new CheckoutSessionView(
          StripeJson.string(s, "id"),
          StripeJson.string(s, "status"),
          StripeJson.string(s, "payment_status"),
          StripeJson.string(s, "mode"),
          total == null ? 0 : total,
          StripeJson.string(s, "currency"),
          StripeJson.userId(s, "metadata.user_id", "client_reference_id"));
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public SubscriptionCreated createSubscription(
      String customerId,
      String priceId,
      int trialDays,
      String paymentMethodId,
      java.util.Map<String, String> metadata,
      String idempotencyKey) {
    try {
      var params =
          com.stripe.param.SubscriptionCreateParams.builder()
              .setCustomer(customerId)
              .addItem(
                  com.stripe.param.SubscriptionCreateParams.Item.builder()
                      .setPrice(priceId)
                      .build())
              .setPaymentBehavior(
                  com.stripe.param.SubscriptionCreateParams.PaymentBehavior.DEFAULT_INCOMPLETE)
              .setPaymentSettings(
                  com.stripe.param.SubscriptionCreateParams.PaymentSettings.builder()
                      .setSaveDefaultPaymentMethod(
                          com.stripe.param.SubscriptionCreateParams.PaymentSettings
                              .SaveDefaultPaymentMethod.ON_SUBSCRIPTION)
                      .build())
              .putAllMetadata(metadata)
              .addExpand("latest_invoice.confirmation_secret");
      if (trialDays > 0) {
        params.setTrialPeriodDays((long) trialDays);
      }
      if (paymentMethodId != null) {
        params.setDefaultPaymentMethod(paymentMethodId);
      }
      JsonObject sub =
          client
              .v1()
              .subscriptions()
              .create(params.build(), idempotent(idempotencyKey))
              .getRawJsonObject();
      return new SubscriptionCreated(
          StripeJson.string(sub, "id"),
          StripeJson.string(sub, "status"),
          StripeJson.string(sub, "latest_invoice.confirmation_secret.client_secret"));
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public List<String> customersByEmail(String email) {
    try {
      var customers =
          client
              .v1()
              .customers()
              .list(
                  com.stripe.param.CustomerListParams.builder()
                      .setEmail(email)
                      .setLimit(100L)
                      .build());
      List<String> ids = new ArrayList<>();
      customers.getData().forEach(c -> ids.add(c.getId()));
      return ids;
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  /** Why an invoice's payment failed, from its payment intent's last error. */
  private String paymentFailure(JsonObject invoice) throws StripeException {
    JsonObject payment = StripeJson.firstOfList(invoice, "payments");
    String pi = payment == null ? null : StripeJson.id(payment, "payment.payment_intent");
    if (pi == null) {
      return "the payment failed";
    }
    JsonObject intent = client.v1().paymentIntents().retrieve(pi).getRawJsonObject();
    String decline = StripeJson.string(intent, "last_payment_error.decline_code");
    String code = StripeJson.string(intent, "last_payment_error.code");
    return decline != null ? decline : code != null ? code : "the payment failed";
  }

  @Override
  public MeterOutcome reportMeterEvent(
      String eventName, String customerId, long value, String identifier, long timestamp) {
    var params =
        com.stripe.param.billing.MeterEventCreateParams.builder()
            .setEventName(eventName)
            .putPayload("stripe_customer_id", customerId)
            .putPayload("value", Long.toString(value))
            .setIdentifier(identifier)
            .setTimestamp(timestamp)
            .build();
    try {
      client.v1().billing().meterEvents().create(params);
      return MeterOutcome.ACCEPTED;
    } catch (com.stripe.exception.InvalidRequestException e) {
      // Stripe refuses a repeated identifier (400 "An event already exists with identifier ...");
      // the identifier is derived from the record, so the record was counted.
      String m = StripeErrors.safeMessage(e);
      if ("duplicate_meter_event".equals(e.getCode())
          || (m != null && m.contains("already exists with identifier"))) {
        return MeterOutcome.DUPLICATE;
      }
      throw StripeErrors.translate(e);
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

  /** A page of a Stripe list, as Stripe's raw JSON body, after the given id (null: the first). */
  @FunctionalInterface
  private interface Page {
    String body(String startingAfter) throws StripeException;
  }

  /** Every object of a Stripe list, raw, following {@code has_more}. */
  private static List<JsonObject> all(Page page) {
    List<JsonObject> objects = new ArrayList<>();
    String after = null;
    try {
      while (true) {
        JsonObject list = JsonParser.parseString(page.body(after)).getAsJsonObject();
        JsonArray data = list.getAsJsonArray("data");
        for (JsonElement e : data) {
          objects.add(e.getAsJsonObject());
          after = e.getAsJsonObject().get("id").getAsString();
        }
        if (data.isEmpty() || !StripeJson.bool(list, "has_more")) {
          return objects;
        }
      }
    } catch (StripeException e) {
      throw StripeErrors.translate(e);
    }
  }

  @Override
  public List<String> listEvents(long createdGte) {
    // Each event exactly as Stripe sent it, as a webhook would carry it.
    return all(
            after -> {
              EventListParams.Builder params =
                  EventListParams.builder()
                      .setLimit(100L)
                      .setCreated(EventListParams.Created.builder().setGte(createdGte).build());
              if (after != null) {
                params.setStartingAfter(after);
              }
              return client.v1().events().list(params.build()).getLastResponse().body();
            })
        .stream()
        .map(JsonObject::toString)
        .toList();
  }

  @Override
  public List<SubscriptionSnapshot> listSubscriptions(String customerId) {
    return all(
            after -> {
              SubscriptionListParams.Builder params =
                  SubscriptionListParams.builder()
                      .setCustomer(customerId)
                      .setStatus(SubscriptionListParams.Status.ALL)
                      .setLimit(100L);
              if (after != null) {
                params.setStartingAfter(after);
              }
              return client.v1().subscriptions().list(params.build()).getLastResponse().body();
            })
        .stream()
        .map(StripeEventParser::subscription)
        .toList();
  }

  @Override
  public List<dev.billing.domain.command.StripeCommand.PaymentIntentSettled>
      listSucceededPaymentIntents(String customerId) {
    return all(
            after -> {
              com.stripe.param.PaymentIntentListParams.Builder params =
                  com.stripe.param.PaymentIntentListParams.builder()
                      .setCustomer(customerId)
                      .setLimit(100L);
              if (after != null) {
                params.setStartingAfter(after);
              }
              return client.v1().paymentIntents().list(params.build()).getLastResponse().body();
            })
        .stream()
        .filter(pi -> "succeeded".equals(StripeJson.string(pi, "status")))
        .map(StripeEventParser::succeededIntent)
        .toList();
  }
}
