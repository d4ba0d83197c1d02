package dev.billing.transport.http;

import dev.billing.config.Catalog;
import dev.billing.config.Plan;
import dev.billing.domain.inbox.WebhookProcessor;
import dev.billing.stripe.WebhookSigner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.undertow.server.HttpHandler;
import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the webhook path up before the service takes traffic: synthetic Stripe events (the whole
 * life of a subscription, in both payload shapes, with the fields real deliveries carry) are signed
 * and POSTed to the webhook handler on a loopback listener of its own (the service's port is not
 * open yet), verified and parsed as a delivery is, and queued to a twin of the writers ({@link
 * WebhookProcessor#rehearsalTwin}): the same handler, queue, writer loop and group code, statement
 * for statement, with each group's transaction rolled back. The events of many subscriptions are
 * interleaved, each subscription's spread over several groups, and each window of groups is
 * rehearsed in one transaction ({@link WebhookProcessor#rehearsing}), so later groups find the rows
 * earlier ones wrote; the snapshots a commit would build are built and dropped. Nothing is stored,
 * counted or published; the JIT compiler has done most of its work on this path when the first real
 * event arrives, instead of while it is being answered.
 */
public final class WebhookWarmup {
  private static final Logger log = LoggerFactory.getLogger(WebhookWarmup.class);

  /**
   * How many subscription lives are in flight at once: their events are interleaved, as the
   * deliveries of many customers are, and rehearsed in one rolled-back transaction (so a later
   * group finds the rows an earlier one wrote, as real groups find committed rows).
   */
  private static final int LIVES_IN_FLIGHT = 16;

  /** Group sizes as the writers see them, from a lone delivery to a busy moment's group. */
  private static final int[] GROUP_SIZES = {1, 2, 4, 6, 8, 8, 10, 12, 16, 24, 32, 48};

  private static final long DAY = 86_400;

  /**
   * The warm-up's last events, one in {@code TAIL_SHARE}, go in the small groups of {@link
   * #TAIL_SIZES}: many groups for few events, late, when the compilers have little left to do. Code
   * run once per group (the group's transaction, its prefetch) is called a few thousand times in
   * the warm-up, and compiled code reports its calls to the JIT policy only every 1,024 calls; one
   * that comes while the compile queue is long (the policy then raises its thresholds) leaves the
   * code uncompiled until the next, which without the tail would come under real traffic.
   */
  private static final int TAIL_SHARE = 3;

  private static final int[] TAIL_SIZES = {2, 2, 3, 2, 4, 2, 6};

  /** How a checkout's event ends (see {@link #event}). */
  private static final String CHECKOUT_TYPE = "\"type\":\"checkout.session.completed\"}";

  /** The API versions of the two payload shapes. */
  private static final String NEW = "2025-03-31.basil";

  private static final String OLD = "2024-06-20";

  private final WebhookHttpHandler handler;
  private final Function<HttpHandler, HttpServer> listener;
  private final WebhookProcessor processor;
  private final List<Plan> plans;
  private final String secret;
  private final Clock clock;
  private final Counter ran;
  private final Supplier<MeterRegistry> scratchMeters;

  public WebhookWarmup(
      WebhookHttpHandler handler,
      Function<HttpHandler, HttpServer> listener,
      WebhookProcessor processor,
      Catalog catalog,
      String secret,
      Clock clock,
      MeterRegistry meters,
      Supplier<MeterRegistry> scratchMeters) {
    this.ran = meters.counter("billing_warmup_events_total");
    this.scratchMeters = scratchMeters;
    this.handler = handler;
    this.listener = listener;
    this.processor = processor;
    this.plans = catalog.plans().stream().filter(p -> !p.isFree()).toList();
    this.secret = secret;
    this.clock = clock;
  }

  /**
   * Runs about {@code events} events through the path, stopping early (after the window under way)
   * once {@code budget} has passed, so a slow machine's start-up stays bounded; returns how many
   * ran.
   */
  public int run(int events, Duration budget) {
    if (events <= 0 || plans.isEmpty()) {
      return 0;
    }
    long started = System.nanoTime();
    long deadline = started + budget.toNanos();
    long compiledBefore = compilationMillis();
    String run = UUID.randomUUID().toString().substring(0, 8);
    int done = 0;
    WebhookProcessor twin = processor.rehearsalTwin(scratchMeters.get());
    try {
      Random random = new Random(42);
      int user = 0;
      String failure = null;
      boolean timeUp = false;
      while (done < events && failure == null && !timeUp) {
        boolean tail = done >= events - events / TAIL_SHARE;
        List<List<String>> window = window(run, user, random, tail ? TAIL_SIZES : GROUP_SIZES);
        user += LIVES_IN_FLIGHT + 1;
        int[] delivered = {0};
        String[] stopped = {null};
        // Each window on a listener of its own, opened and closed on the service's I/O threads
        // (and so its deliveries on new connections, as a sender's first or a restarted one's
        // come): the accept, register and close paths are compiled with the rest, and the
        // service's own listener opening later deoptimises nothing.
        HttpServer server = listener.apply(handler.to(twin));
        server.start();
        try (LoopbackDeliveries client =
            new LoopbackDeliveries(server.port(), "/webhooks/stripe", 30_000)) {
          processor.rehearsing(
              () -> {
                for (List<String> payloads : window) {
                  stopped[0] = deliver(client, payloads);
                  if (stopped[0] != null) {
                    return;
                  }
                  delivered[0] += payloads.size();
                }
              });
          done += delivered[0];
          failure = stopped[0] != null ? stopped[0] : probe(client);
        } finally {
          server.close();
        }
        timeUp = System.nanoTime() - deadline >= 0;
      }
      if (failure != null) {
        log.warn("warm-up stopped after {} events: {}", done, failure);
      } else if (done < events) {
        log.info("warm-up stopped after {} events: its time ({}) was up", done, budget);
      }
    } finally {
      twin.close();
    }
    ran.increment(done);
    log.info(
        "warm-up: {} synthetic webhook events through the webhook endpoint and the write path,"
            + " rolled back, in {} ms ({} ms of JIT compilation)",
        done,
        (System.nanoTime() - started) / 1_000_000,
        compilationMillis() - compiledBefore);
    return done;
  }

  /** Groups cut so far: where the cycle of group sizes stands. */
  private int groups;

  /**
   * One window's groups: a lone checkout and {@link #LIVES_IN_FLIGHT} subscription lives from user
   * {@code first} on, their events interleaved (each life's in its order), cut into groups.
   */
  private List<List<String>> window(String run, int first, Random random, int[] sizes) {
    List<Deque<String>> lives = new ArrayList<>();
    lives.add(new ArrayDeque<>(List.of(checkoutEvent(run, first))));
    for (int i = 1; i <= LIVES_IN_FLIGHT; i++) {
      lives.add(new ArrayDeque<>(lifeOfASubscription(run, first + i)));
    }
    List<String> events = new ArrayList<>();
    List<Deque<String>> of = new ArrayList<>(); // the life of each event
    while (!lives.isEmpty()) {
      int i = random.nextInt(lives.size());
      Deque<String> life = lives.get(i);
      events.add(life.poll());
      of.add(life);
      if (life.isEmpty()) {
        lives.remove(i);
      }
    }
    // A group's deliveries arrive in any order. A life's later events may share its group (a user
    // twice in a group is common under load, and takes paths of its own), but not its checkout: the
    // older-shape events find their user through the customer the checkout records, so they come in
    // a later group than it.
    List<List<String>> cut = new ArrayList<>();
    for (int from = 0; from < events.size(); groups++) {
      int limit = Math.min(events.size(), from + sizes[groups % sizes.length]);
      Set<Deque<String>> checkedOut = Collections.newSetFromMap(new IdentityHashMap<>());
      int to = from;
      while (to < limit && !checkedOut.contains(of.get(to))) {
        if (events.get(to).endsWith(CHECKOUT_TYPE)) {
          checkedOut.add(of.get(to));
        }
        to++;
      }
      cut.add(events.subList(from, to));
      from = to;
    }
    return cut;
  }

  /**
   * Sends a group's deliveries to the warm-up endpoint all at once, as concurrent deliveries
   * arrive, and waits for their answers (the twin's writers rehearse them as they group them).
   * Returns null, or why the warm-up must stop.
   */
  private String deliver(LoopbackDeliveries client, List<String> payloads) {
    long now = clock.millis() / 1000;
    List<String> signatures =
        payloads.stream().map(p -> WebhookSigner.header(p, secret, now)).toList();
    List<LoopbackDeliveries.Answer> answers;
    try {
      answers = client.post(payloads, signatures);
    } catch (IOException e) {
      return e.toString();
    }
    List<String> errors = new ArrayList<>();
    for (LoopbackDeliveries.Answer answer : answers) {
      if (answer.status() != 200) {
        errors.add("HTTP " + answer.status() + ": " + answer.body());
      }
    }
    return errors.isEmpty() ? null : String.join("; ", errors.stream().distinct().toList());
  }

  /** A health probe between windows, as probes come between deliveries; null, or what failed. */
  private static String probe(LoopbackDeliveries client) {
    try {
      LoopbackDeliveries.Answer answer = client.probe("/healthz");
      return answer.status() == 200 ? null : "health probe: HTTP " + answer.status();
    } catch (IOException e) {
      return "health probe: " + e;
    }
  }

  /** The JIT compilers' time so far (ms), or 0 where the JVM does not tell. */
  private static long compilationMillis() {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported()
        ? jit.getTotalCompilationTime()
        : 0;
  }

  /**
   * A subscription's events: checkout, created, a plan change, a failed renewal, past due; then the
   * retry paid and canceled, or (every other four lives) the recovery into a renewed period and a
   * second plan change set to cancel at the period's end. Past due and the paid retry are in the
   * shapes before 2025-03-31 (the period on the subscription, {@code invoice.subscription}), the
   * others in the newer ones (the period on the item, the invoice's subscription under {@code
   * parent}). One life in four is delivered out of order (its failed renewal first), one starts
   * with a free trial (and a same-second change), one has an event delivered twice, and one changes
   * one thing at a time, as customers do: its trial ends alone, it is set to cancel at the period's
   * end and back, one update changes nothing the service keeps, and (unless it recovers) it is
   * deleted while set to cancel at the period's end. Real deliveries take those paths too, and code
   * compiled without them is compiled again (after a deoptimization) when they come.
   */
  List<String> lifeOfASubscription(String run, int n) {
    String u = id(run, n);
    long t = start(n);
    int variant = n % 4;
    boolean trial = variant == 3;
    boolean recovers = (n / 4) % 2 == 1;
    boolean oneAtATime = variant == 1;
    List<String> life =
        List.of(
            checkoutEvent(run, n),
            event(
                u,
                2,
                "customer.subscription.created",
                t + 1,
                NEW,
                subscription(u, n, 0, trial || oneAtATime ? "trialing" : "active", t, t)),
            event(
                u,
                3,
                "customer.subscription.updated",
                trial ? t + 1 : t + DAY,
                NEW,
                subscription(u, n, 1, "active", t, t)),
            event(
                u, 4, "invoice.payment_failed", t + 30 * DAY, NEW, invoice(u, false, t + 30 * DAY)),
            event(
                u,
                5,
                "customer.subscription.updated",
                t + 30 * DAY + 1,
                OLD,
                subscription(u, n, 1, "past_due", t, t)),
            recovers
                ? event(
                    u,
                    6,
                    "customer.subscription.updated",
                    t + 33 * DAY,
                    OLD,
                    subscription(u, n, 1, "active", t, t + 30 * DAY))
                : event(u, 6, "invoice.paid", t + 33 * DAY, OLD, invoice(u, true, t + 33 * DAY)),
            recovers
                ? event(
                    u,
                    7,
                    "customer.subscription.updated",
                    t + 34 * DAY,
                    NEW,
                    subscription(u, n, 2, "active", t, t + 30 * DAY))
                : event(
                    u,
                    7,
                    "customer.subscription.deleted",
                    t + 40 * DAY,
                    NEW,
                    subscription(u, n, 1, "canceled", t, t, oneAtATime)));
    return switch (variant) {
      case 1 -> { // one change at a time: the trial ends; cancel at the period's end, no-op, back
        List<String> steps = new ArrayList<>(life);
        steps.add(
            2,
            activeUpdate(
                u,
                n,
                8,
                t + 2,
                0,
                false,
                "{\"status\":\"trialing\",\"trial_end\":" + (t + 14 * DAY) + "}"));
        steps.addAll(
            4,
            List.of(
                activeUpdate(u, n, 9, t + 2 * DAY, 1, true, "{\"cancel_at_period_end\":false}"),
                activeUpdate(u, n, 10, t + 3 * DAY, 1, true, "{\"metadata\":{}}"),
                activeUpdate(u, n, 11, t + 4 * DAY, 1, false, "{\"cancel_at_period_end\":true}")));
        yield steps;
      }
      case 2 -> // the failed renewal first (its outcome waits on a placeholder, which the
          // subscription's first event then replaces), the subscription before its checkout
          List.of(
              life.get(3),
              life.get(1),
              life.get(0),
              life.get(2),
              life.get(4),
              life.get(5),
              life.get(6));
      case 0 -> { // Stripe delivers at least once: the same event twice
        List<String> twice = new ArrayList<>(life);
        twice.add(2, life.get(1));
        yield twice;
      }
      default -> life;
    };
  }

  /**
   * A {@code customer.subscription.updated} event (number {@code seq}) of user {@code n}'s active
   * subscription after {@code step} plan changes, set to cancel at the period's end or not, with
   * {@code previous} as its previous attributes.
   */
  private String activeUpdate(
      String u, int n, int seq, long created, int step, boolean cancel, String previous) {
    long t = start(n);
    return event(
        u,
        seq,
        "customer.subscription.updated",
        created,
        NEW,
        subscription(u, n, step, "active", t, t, cancel),
        previous);
  }

  /** The plan of user {@code n} after {@code step} plan changes. */
  private Plan plan(int n, int step) {
    return plans.get((n + step) % plans.size());
  }

  /**
   * The suffix of every id of user {@code n}'s objects: {@code warmup_}, up to 13 characters that
   * look random, as Stripe's ids do, and {@code Aa} or {@code BB}: users {@code 2k} and {@code 2k +
   * 1} (in flight together) share the rest, so each id of the one has the {@link String#hashCode}
   * of the same id of the other. Structured ids collide often (the webhook benchmark's fixtures:
   * {@code sub_1Spk0000000oAbCd} and {@code sub_1Spk00000021AbCd}), Stripe's random ones rarely but
   * sooner or later; without such pairs here, the group code's maps are compiled for keys that
   * never share a hash, and the first two that do deoptimise it (JFR: {@code unstable_if} traps
   * after {@code equals} in {@code HashMap.getNode} and {@code removeNode}, inlined into the
   * subscriptions' prefetch and lock, and in {@code PaymentStore.Key.equals}; then 0.17-0.29 s of
   * C2 recompiling them while the first real deliveries wait).
   */
  private static String id(String run, int n) {
    long mixed = mix((long) run.hashCode() << 32 | ((n >>> 1) & 0xffffffffL));
    return "warmup_" + Long.toUnsignedString(mixed, 36) + (n % 2 == 0 ? "Aa" : "BB");
  }

  /** A bijection of the longs that scatters nearby inputs (SplitMix64's finaliser). */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /**
   * When user {@code n}'s subscription starts (epoch seconds): ten days apart from November 2023 to
   * May 2029, then from the start again, so that all through the warm-up some periods have ended
   * when their events come (late deliveries, replays) and others have not.
   */
  private static long start(int n) {
    return 1_700_000_000L + (n % 200) * 10L * DAY;
  }

  /*
   * The fields Stripe sends that the service does not read: real deliveries carry them (3 to 4 KB
   * an event), and the parser's compiled code is shaped by what it parses.
   */

  private static final String CHECKOUT_FIELDS =
      """
      "after_expiration":null,"allow_promotion_codes":false,\
      "automatic_tax":{"enabled":false,"liability":null,"status":null},\
      "billing_address_collection":"auto","cancel_url":"https://example.com/cancel",\
      "consent":null,"consent_collection":null,"created":1700000000,"custom_fields":[],\
      "custom_text":{"after_submit":null,"shipping_address":null,"submit":null,\
      "terms_of_service_acceptance":null},"customer_creation":"always",\
      "customer_details":{"address":{"city":null,"country":"US","line1":null,"line2":null,\
      "postal_code":"94107","state":null},"email":"someone@example.com","name":"Jenny Rosen",\
      "phone":null,"tax_exempt":"none","tax_ids":[]},"expires_at":1700086400,\
      "invoice":"in_1Warmup0000000000000000","invoice_creation":null,"locale":null,\
      "payment_link":null,"payment_method_collection":"always",\
      "payment_method_configuration_details":null,\
      "payment_method_options":{"card":{"request_three_d_secure":"automatic"}},\
      "payment_method_types":["card","link"],"phone_number_collection":{"enabled":false},\
      "recovered_from":null,"saved_payment_method_options":{"allow_redisplay_filters":["always"],\
      "payment_method_remove":null,"payment_method_save":null},"setup_intent":null,\
      "shipping_address_collection":null,"shipping_cost":null,"shipping_options":[],\
      "submit_type":null,"success_url":"https://example.com/success",\
      "total_details":{"amount_discount":0,"amount_shipping":0,"amount_tax":0},\
      "ui_mode":"hosted","url":null""";

  private static final String PRICE_FIELDS =
      """
      "active":true,"billing_scheme":"per_unit","created":1700000000,"custom_unit_amount":null,\
      "livemode":false,"lookup_key":null,"metadata":{},"nickname":null,\
      "product":"prod_Warmup00000001","tax_behavior":"unspecified","tiers_mode":null,\
      "transform_quantity":null,"type":"recurring","unit_amount_decimal":"2900\"""";

  private static final String ITEM_FIELDS =
      """
      "billing_thresholds":null,"created":1700000000,"discounts":[],"metadata":{},\
      "plan":{"id":"plan_Warmup0001","object":"plan","active":true,"amount":2900,\
      "amount_decimal":"2900","billing_scheme":"per_unit","created":1700000000,"currency":"usd",\
      "interval":"month","interval_count":1,"livemode":false,"metadata":{},"meter":null,\
      "nickname":null,"product":"prod_Warmup00000001","tiers_mode":null,"transform_usage":null,\
      "trial_period_days":null,"usage_type":"licensed"},"tax_rates":[],""";

  private static final String SUBSCRIPTION_FIELDS =
      """
      "application":null,"application_fee_percent":null,\
      "automatic_tax":{"disabled_reason":null,"enabled":false,"liability":null},\
      "billing_cycle_anchor":1700000000,"billing_cycle_anchor_config":null,\
      "billing_thresholds":null,"cancel_at":null,\
      "cancellation_details":{"comment":null,"feedback":null,"reason":null},\
      "collection_method":"charge_automatically","days_until_due":null,\
      "default_payment_method":"pm_1Warmup0000Card","default_source":null,\
      "default_tax_rates":[],"description":null,"discounts":[],"ended_at":null,\
      "invoice_settings":{"account_tax_ids":null,"issuer":{"type":"self"}},\
      "latest_invoice":"in_1Warmup0000000000000000","next_pending_invoice_item_invoice":null,\
      "on_behalf_of":null,"pause_collection":null,\
      "payment_settings":{"payment_method_options":null,"payment_method_types":null,\
      "save_default_payment_method":"off"},"pending_invoice_item_interval":null,\
      "pending_setup_intent":null,"pending_update":null,"schedule":null,"start_date":1700000000,\
      "test_clock":null,"transfer_data":null,"trial_settings":{"end_behavior":\
      {"missing_payment_method":"create_invoice"}},"trial_start":null""";

  private static final String INVOICE_FIELDS =
      """
      "account_country":"US","account_name":"Example, Inc.","account_tax_ids":null,\
      "amount_remaining":2900,"amount_shipping":0,"application":null,"attempt_count":1,\
      "attempted":true,"auto_advance":true,"automatic_tax":{"disabled_reason":null,\
      "enabled":false,"liability":null,"status":null},"collection_method":"charge_automatically",\
      "custom_fields":null,"customer_address":null,"customer_email":"someone@example.com",\
      "customer_name":"Jenny Rosen","customer_phone":null,"customer_shipping":null,\
      "customer_tax_exempt":"none","customer_tax_ids":[],"default_payment_method":null,\
      "default_source":null,"default_tax_rates":[],"description":null,"discounts":[],\
      "due_date":null,"effective_at":1700000000,"ending_balance":0,"footer":null,\
      "from_invoice":null,"hosted_invoice_url":"https://invoice.stripe.com/i/acct_x/test_x",\
      "invoice_pdf":"https://pay.stripe.com/invoice/acct_x/test_x/pdf","issuer":{"type":"self"},\
      "last_finalization_error":null,"latest_revision":null,\
      "lines":{"object":"list","data":[{"id":"il_1Warmup00000000","object":"line_item",\
      "amount":2900,"currency":"usd","description":"1 × Plan (at $29.00 / month)",\
      "discount_amounts":[],"discountable":true,"discounts":[],"livemode":false,"metadata":{},\
      "period":{"end":1702592000,"start":1700000000},"quantity":1,"taxes":[]}],\
      "has_more":false,"total_count":1,"url":"/v1/invoices/in_x/lines"},\
      "next_payment_attempt":null,"number":"WARMUP-0001","on_behalf_of":null,\
      "period_end":1700000000,"period_start":1697408000,\
      "post_payment_credit_notes_amount":0,"pre_payment_credit_notes_amount":0,\
      "receipt_number":null,"rendering":null,"shipping_cost":null,"shipping_details":null,\
      "starting_balance":0,"statement_descriptor":null,"status_transitions":{"finalized_at":\
      1700000000,"marked_uncollectible_at":null,"paid_at":null,"voided_at":null},\
      "subtotal":2900,"subtotal_excluding_tax":2900,"test_clock":null,"total":2900,\
      "total_discount_amounts":[],"total_excluding_tax":2900,"total_pretax_credit_amounts":[],\
      "total_taxes":[],"webhooks_delivered_at":1700000000""";

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
        "mode":"subscription","payment_intent":null,"payment_status":"%s","status":"complete",\
        "subscription":"sub_%s",%s}"""
            .formatted(
                u,
                user,
                u,
                user,
                user,
                plan(n, 0).name(),
                n % 4 == 3 ? "no_payment_required" : "paid",
                u,
                CHECKOUT_FIELDS));
  }

  private static String event(
      String u, int seq, String type, long created, String apiVersion, String object) {
    return event(u, seq, type, created, apiVersion, object, null);
  }

  /** An event whose {@code data} has {@code previous} (JSON) as its previous attributes. */
  private static String event(
      String u,
      int seq,
      String type,
      long created,
      String apiVersion,
      String object,
      String previous) {
    return """
        {"id":"evt_%s_%d","object":"event","api_version":"%s","created":%d,\
        "data":{"object":%s%s},"livemode":false,"pending_webhooks":1,\
        "request":{"id":null,"idempotency_key":null},"type":"%s"}"""
        .formatted(
            u,
            seq,
            apiVersion,
            created,
            object,
            previous == null ? "" : ",\"previous_attributes\":" + previous,
            type);
  }

  /**
   * The subscription of user {@code n} after {@code step} plan changes, created at {@code start},
   * in the period from {@code periodStart}; past due is in the older shape (the period on the
   * subscription), every other status in the newer (on the item).
   */
  private String subscription(
      String u, int n, int step, String status, long start, long periodStart) {
    return subscription(
        u,
        n,
        step,
        status,
        start,
        periodStart,
        (step == 1 && n % 4 == 3 || step == 2) && "active".equals(status)); // canceled at the end
  }

  /** As above, set to cancel at the period's end or not as {@code cancelAtPeriodEnd} says. */
  private String subscription(
      String u,
      int n,
      int step,
      String status,
      long start,
      long periodStart,
      boolean cancelAtPeriodEnd) {
    boolean older = "past_due".equals(status);
    String period =
        "\"current_period_end\":%d,\"current_period_start\":%d,"
            .formatted(periodStart + 30 * DAY, periodStart);
    return """
        {"id":"sub_%s","object":"subscription","cancel_at_period_end":%s,\
        "canceled_at":%s,"created":%d,"currency":"usd","customer":"cus_%s",%s\
        "items":{"object":"list","data":[{"id":"si_%s","object":"subscription_item",%s\
        "price":{"id":"%s","object":"price","currency":"usd","unit_amount":2900,\
        "recurring":{"interval":"month","interval_count":1,"meter":null,"trial_period_days":null,\
        "usage_type":"licensed"},%s},%s"quantity":1}],"has_more":false,\
        "url":"/v1/subscription_items?subscription=sub_%s"},\
        "livemode":false,"metadata":{"user_id":"user_%s"},"status":"%s","trial_end":%s,%s}"""
        .formatted(
            u,
            cancelAtPeriodEnd,
            "canceled".equals(status) ? Long.toString(start + 40 * DAY) : "null",
            start,
            u,
            older ? period : "",
            u,
            older ? "" : period,
            plan(n, step).priceId(),
            PRICE_FIELDS,
            ITEM_FIELDS,
            u,
            u,
            status,
            "trialing".equals(status) ? Long.toString(start + 14 * DAY) : "null",
            SUBSCRIPTION_FIELDS);
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
        "livemode":false,"status":"%s",%s,%s}"""
        .formatted(
            u,
            paid ? "retry" : "first",
            paid ? 2900 : 0,
            created,
            u,
            paid ? "paid" : "open",
            subscription,
            INVOICE_FIELDS);
  }
}
