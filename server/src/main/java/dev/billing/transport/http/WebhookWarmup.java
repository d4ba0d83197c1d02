package dev.billing.transport.http;

import dev.billing.config.Catalog;
import dev.billing.config.Plan;
import dev.billing.domain.inbox.InboundEvent;
import dev.billing.domain.inbox.WebhookProcessor;
import dev.billing.stripe.WebhookSigner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the webhook path up before the service takes traffic: synthetic Stripe events (the whole
 * life of a subscription, in both payload shapes) are signed, verified and parsed as a delivery is,
 * then written in groups by the writers' own code, statement for statement, in transactions that
 * are rolled back ({@link WebhookProcessor#rehearse}). Nothing is stored, counted or published; the
 * JIT compiler has done most of its work on this path when the first real event arrives, instead of
 * while it is being answered.
 */
public final class WebhookWarmup {
  private static final Logger log = LoggerFactory.getLogger(WebhookWarmup.class);

  /**
   * Groups as the writers see them, in whole subscription lives (7 events each, so no event of a
   * group refers to a customer only an earlier, rolled-back group knew): 0 stands for a lone
   * delivery, a checkout on its own.
   */
  private static final int[] GROUP_LIVES = {0, 1, 2, 4, 8, 9};

  private static final long DAY = 86_400;

  /** The API versions of the two payload shapes. */
  private static final String NEW = "2025-03-31.basil";

  private static final String OLD = "2024-06-20";

  private final WebhookHttpHandler handler;
  private final WebhookProcessor processor;
  private final List<Plan> plans;
  private final String secret;
  private final Clock clock;
  private final Counter ran;

  public WebhookWarmup(
      WebhookHttpHandler handler,
      WebhookProcessor processor,
      Catalog catalog,
      String secret,
      Clock clock,
      MeterRegistry meters) {
    this.ran = meters.counter("billing_warmup_events_total");
    this.handler = handler;
    this.processor = processor;
    this.plans = catalog.plans().stream().filter(p -> !p.isFree()).toList();
    this.secret = secret;
    this.clock = clock;
  }

  /** Runs about {@code events} events through the path; returns how many ran. */
  public int run(int events) {
    if (events <= 0 || plans.isEmpty()) {
      return 0;
    }
    long started = System.nanoTime();
    String run = UUID.randomUUID().toString().substring(0, 8);
    int done = 0;
    int user = 0;
    for (int g = 0; done < events; g++) {
      int lives = GROUP_LIVES[g % GROUP_LIVES.length];
      List<String> payloads = new ArrayList<>();
      if (lives == 0) {
        payloads.add(checkoutEvent(run, user++));
      }
      for (int i = 0; i < lives; i++) {
        payloads.addAll(lifeOfASubscription(run, user++));
      }
      try {
        List<InboundEvent> group = new ArrayList<>(payloads.size());
        for (String payload : payloads) {
          group.add(
              handler.verified(
                  payload.getBytes(StandardCharsets.UTF_8),
                  WebhookSigner.header(payload, secret, clock.millis() / 1000)));
        }
        processor.rehearse(group);
      } catch (WebhookHttpHandler.Refused | RuntimeException e) {
        log.warn("warm-up stopped after {} events: {}", done, e.toString());
        break;
      }
      done += payloads.size();
    }
    ran.increment(done);
    log.info(
        "warm-up: {} synthetic webhook events through the write path, rolled back, in {} ms",
        done,
        (System.nanoTime() - started) / 1_000_000);
    return done;
  }

  /**
   * A subscription's events: checkout, created, a plan change, a failed renewal, past due, the
   * retry paid, canceled. The first four and the last are in the 2025-03-31 shapes (the period on
   * the item, the invoice's subscription under {@code parent}), past due and the paid retry in the
   * older ones (the period on the subscription, {@code invoice.subscription}).
   */
  List<String> lifeOfASubscription(String run, int n) {
    String u = id(run, n);
    long t = start(n);
    return List.of(
        checkoutEvent(run, n),
        event(
            u, 2, "customer.subscription.created", t + 1, NEW, subscription(u, n, 0, "active", t)),
        event(
            u,
            3,
            "customer.subscription.updated",
            t + DAY,
            NEW,
            subscription(u, n, 1, "active", t)),
        event(u, 4, "invoice.payment_failed", t + 30 * DAY, NEW, invoice(u, false, t + 30 * DAY)),
        event(
            u,
            5,
            "customer.subscription.updated",
            t + 30 * DAY + 1,
            OLD,
            subscription(u, n, 1, "past_due", t)),
        event(u, 6, "invoice.paid", t + 33 * DAY, OLD, invoice(u, true, t + 33 * DAY)),
        event(
            u,
            7,
            "customer.subscription.deleted",
            t + 40 * DAY,
            NEW,
            subscription(u, n, 1, "canceled", t)));
  }

  /** The plan of user {@code n} after {@code step} plan changes. */
  private Plan plan(int n, int step) {
    return plans.get((n + step) % plans.size());
  }

  /** The suffix of every id of user {@code n}'s objects. */
  private static String id(String run, int n) {
    return "warmup_" + run + "_" + n;
  }

  /** When user {@code n}'s subscription starts (epoch seconds). */
  private static long start(int n) {
    return 1_700_000_000L + n * 10L * DAY;
  }

  private String checkoutEvent(String run, int n) {
    String u = id(run, n);
    String user = "user_" + u;
    return event(
        u,
        1,
        "checkout.session.completed",
        start(n),
        NEW,
        """
        {"id":"cs_%s","object":"checkout.session","amount_subtotal":2900,"amount_total":2900,\
        "client_reference_id":"%s","currency":"usd","customer":"cus_%s",\
        "customer_email":"%s@example.com","livemode":false,"metadata":{"user_id":"%s","plan":"%s"},\
        "mode":"subscription","payment_intent":null,"payment_status":"paid","status":"complete",\
        "subscription":"sub_%s"}"""
            .formatted(u, user, u, user, user, plan(n, 0).name(), u));
  }

  private static String event(
      String u, int seq, String type, long created, String apiVersion, String object) {
    return """
        {"id":"evt_%s_%d","object":"event","api_version":"%s","created":%d,\
        "data":{"object":%s},"livemode":false,"pending_webhooks":1,\
        "request":{"id":null,"idempotency_key":null},"type":"%s"}"""
        .formatted(u, seq, apiVersion, created, object, type);
  }

  /**
   * The subscription of user {@code n} after {@code step} plan changes; past due is in the older
   * shape (the period on the subscription), every other status in the newer (on the item).
   */
  private String subscription(String u, int n, int step, String status, long start) {
    boolean older = "past_due".equals(status);
    String period =
        "\"current_period_end\":%d,\"current_period_start\":%d,".formatted(start + 30 * DAY, start);
    return """
        {"id":"sub_%s","object":"subscription","cancel_at_period_end":false,\
        "canceled_at":%s,"created":%d,"currency":"usd","customer":"cus_%s",%s\
        "items":{"object":"list","data":[{"id":"si_%s","object":"subscription_item",%s\
        "price":{"id":"%s","object":"price","currency":"usd","unit_amount":2900,\
        "recurring":{"interval":"month","interval_count":1}},"quantity":1}],"has_more":false},\
        "livemode":false,"metadata":{"user_id":"user_%s"},"status":"%s","trial_end":null}"""
        .formatted(
            u,
            "canceled".equals(status) ? Long.toString(start + 40 * DAY) : "null",
            start,
            u,
            older ? period : "",
            u,
            older ? "" : period,
            plan(n, step).priceId(),
            u,
            status);
  }

  private static String invoice(String u, boolean paid, long created) {
    String subscription =
        paid
            ? "\"subscription\":\"sub_%s\",\"payment_intent\":\"pi_%s\"".formatted(u, u)
            : ("\"parent\":{\"type\":\"subscription_details\",\"subscription_details\":"
                    + "{\"subscription\":\"sub_%s\",\"metadata\":{\"user_id\":\"user_%s\"}}},"
                    + "\"payments\":{\"object\":\"list\",\"data\":[{\"payment\":"
                    + "{\"type\":\"payment_intent\",\"payment_intent\":\"pi_%s\"}}]}")
                .formatted(u, u, u);
    return """
        {"id":"in_%s_%s","object":"invoice","amount_due":2900,"amount_paid":%d,\
        "billing_reason":"subscription_cycle","created":%d,"currency":"usd","customer":"cus_%s",\
        "livemode":false,"status":"%s",%s}"""
        .formatted(
            u,
            paid ? "retry" : "first",
            paid ? 2900 : 0,
            created,
            u,
            paid ? "paid" : "open",
            subscription);
  }
}
