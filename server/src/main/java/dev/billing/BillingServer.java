package dev.billing;

import dev.billing.config.BillingConfig;
import dev.billing.config.BillingConfig.StripeConfig;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.AuditStore;
import dev.billing.domain.change.ChangeFeed;
import dev.billing.domain.change.ChangeLog;
import dev.billing.domain.change.ChangeLogPruner;
import dev.billing.domain.change.ChangeLogStore;
import dev.billing.domain.checkout.CheckoutService;
import dev.billing.domain.checkout.CheckoutSessions;
import dev.billing.domain.checkout.CheckoutStore;
import dev.billing.domain.checkout.UrlPolicy;
import dev.billing.domain.credits.CreditService;
import dev.billing.domain.credits.CreditStore;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.customer.CustomerStore;
import dev.billing.domain.customer.PaymentMethods;
import dev.billing.domain.entitlement.EntitlementCalculator;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.domain.entitlement.EntitlementStore;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.domain.idempotency.IdempotencyStore;
import dev.billing.domain.inbox.EventApplier;
import dev.billing.domain.inbox.InboxStore;
import dev.billing.domain.inbox.WebhookProcessor;
import dev.billing.domain.payment.PaymentOperations;
import dev.billing.domain.payment.PaymentService;
import dev.billing.domain.payment.PaymentStore;
import dev.billing.domain.reconcile.Reconciler;
import dev.billing.domain.referral.ReferralService;
import dev.billing.domain.referral.ReferralStore;
import dev.billing.domain.subscription.CancellationService;
import dev.billing.domain.subscription.PlanChangeService;
import dev.billing.domain.subscription.SubscriptionMaintenance;
import dev.billing.domain.subscription.SubscriptionQueries;
import dev.billing.domain.subscription.SubscriptionService;
import dev.billing.domain.subscription.SubscriptionStore;
import dev.billing.domain.usage.MeterReporter;
import dev.billing.domain.usage.UsageService;
import dev.billing.persistence.Database;
import dev.billing.persistence.DatabaseHealth;
import dev.billing.persistence.Transactions;
import dev.billing.stripe.SignatureVerifier;
import dev.billing.stripe.StripeEventParser;
import dev.billing.stripe.StripeJavaGateway;
import dev.billing.transport.console.ConsoleServer;
import dev.billing.transport.grpc.AuthInterceptor;
import dev.billing.transport.grpc.BillingGrpcService;
import dev.billing.transport.grpc.EntitlementProtoConverter;
import dev.billing.transport.grpc.EntitlementSnapshots;
import dev.billing.transport.grpc.GrpcServer;
import dev.billing.transport.grpc.HotPathExecutors;
import dev.billing.transport.grpc.TokenReloader;
import dev.billing.transport.grpc.TokenStore;
import dev.billing.transport.grpc.TransportThreads;
import dev.billing.transport.grpc.stream.SharedResponses;
import dev.billing.transport.grpc.stream.StreamHub;
import dev.billing.transport.http.HttpServer;
import dev.billing.transport.http.WebhookHttpHandler;
import dev.billing.transport.http.WebhookWarmup;
import dev.billing.util.PortReservation;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the service together from its configuration, starts it, and stops it in order. */
public final class BillingServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BillingServer.class);

  /**
   * Rehearsed credit mutations at start (with the webhook warm-up, and off with it): enough for the
   * JIT's C2 thresholds (thousands of calls), bounded in time on a slow machine.
   */
  private static final int CREDIT_WARMUP = 6_000;

  private static final Duration CREDIT_WARMUP_BUDGET = Duration.ofSeconds(15);

  static final List<Class<?>> STORES =
      List.of(
          AuditStore.class,
          ChangeLogStore.class,
          CheckoutStore.class,
          PaymentStore.class,
          ReferralStore.class,
          CreditStore.class,
          CustomerStore.class,
          EntitlementStore.class,
          InboxStore.class,
          SubscriptionStore.class,
          IdempotencyStore.class,
          dev.billing.domain.usage.UsageStore.class,
          dev.billing.domain.usage.MeterOutboxStore.class);

  private final List<AutoCloseable> closeOrder = new ArrayList<>();
  private final GrpcServer grpc;
  private final HttpServer http;
  private final Database database;
  private final EntitlementSnapshots entitlements;
  private final CreditService credits;
  private final WebhookProcessor webhooks;
  private final ChangeFeed feed;
  private final StreamHub streams;
  private final SubscriptionMaintenance maintenance;
  private final ChangeLogPruner pruner;
  private final Reconciler reconciler;
  private final MeterReporter meterReporter;
  private final ConsoleServer console;

  private BillingServer(
      BillingConfig config,
      ServerBuilder<?> grpcBuilder,
      TransportThreads transportThreads,
      Clock clock)
      throws IOException {
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(meters);
    new JvmThreadMetrics().bindTo(meters);
    new ProcessorMetrics().bindTo(meters);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(meters);

    boolean liveKey =
        config.stripe().secretKey() != null && config.stripe().secretKey().startsWith("sk_live_");
    TokenStore tokens = TokenStore.load(config.tokensFile(), liveKey);
    database = Database.open(config.database(), STORES);
    BillingConfig.ResilienceConfig resilience = config.resilience();
    DatabaseHealth health =
        new DatabaseHealth(
                config.database().url(),
                config.database().user(),
                config.database().password(),
                resilience.dbProbeInterval(),
                resilience.dbProbeTimeout())
            .start();
    Transactions tx = new Transactions(database.sessionFactory(), health);
    AuditLog audit = new AuditLog(tx);
    EntitlementService entitlementRules =
        new EntitlementService(
            tx,
            config.catalog(),
            new EntitlementCalculator(config.catalog(), config.pastDueGrace()),
            audit,
            clock);
    credits = new CreditService(tx, entitlementRules, audit);
    Map<String, ToDoubleFunction<CreditService>> creditPaths =
        Map.of(
            "one_packet", c -> c.packets().onePacket(),
            "read_first", c -> c.packets().readFirst());
    creditPaths.forEach(
        (path, count) ->
            FunctionCounter.builder("billing_credit_mutations", credits, count)
                .tag("path", path)
                .description("callers' credit mutations: in one round trip, or reading first")
                .register(meters));
    UsageService usage = new UsageService(tx, config.catalog(), entitlementRules, credits, clock);
    EntitlementProtoConverter converter = new EntitlementProtoConverter(config.catalog(), usage);
    entitlements =
        new EntitlementSnapshots(
            entitlementRules, usage, converter, clock, config.entitlementCacheSize(), meters);
    ChangeLog changeLog = new ChangeLog(converter);
    // Audit rows first; the change-log reservation is the transaction's last statement.
    tx.addCommitHook(audit);
    tx.addCommitHook(changeLog);
    feed = new ChangeFeed(tx, changeLog, config.stream());
    FunctionCounter.builder("billing_change_log_holes_settled", feed, ChangeFeed::holesSettled)
        .description("change-log reads that saw a later change before an earlier one and waited")
        .register(meters);
    streams =
        new StreamHub(
            feed,
            config.stream(),
            converter::toProto,
            transportThreads != null ? transportThreads::current : () -> null,
            meters);
    feed.addListener(entitlements); // the snapshots see each change before the streams do
    feed.addListener(streams);
    // The rows a credit mutation may assume (sent in one packet): as each commit here leaves them;
    // a user another replica changed is forgotten.
    feed.addListener(entitlementRules::heardOf);
    changeLog.addListener(entitlementRules::committed);
    changeLog.addListener(entitlements::onCommitted);
    changeLog.addListener(feed::committedLocally);
    // A rehearsal's changes take the same three paths, each into scratch structures of its own.
    changeLog.addRehearsalListener(entitlementRules::rehearse);
    changeLog.addRehearsalListener(entitlements::rehearse);
    changeLog.addRehearsalListener(feed::rehearse);

    StripeConfig stripeConfig = config.stripe();
    if (stripeConfig.emulated()) {
      log.warn(
          "STRIPE_SECRET_KEY is not set: Stripe calls go to {} with a test key",
          stripeConfig.apiBase());
    }
    StripeGateway gateway =
        new StripeJavaGateway(
            stripeConfig.effectiveSecretKey(), stripeConfig.apiBase(), stripeConfig.testClocks());
    CustomerService customers = new CustomerService(tx, gateway);
    SubscriptionService subscriptions =
        new SubscriptionService(config.catalog(), entitlementRules, audit, customers);
    ReferralService referrals = new ReferralService(tx, entitlementRules, credits, audit);
    PaymentService payments =
        new PaymentService(credits, referrals, audit, customers, config.catalog());
    webhooks =
        new WebhookProcessor(
            tx,
            new EventApplier(subscriptions, payments, customers, new CheckoutSessions(), audit),
            StripeEventParser::parse,
            config.webhooks(),
            health,
            resilience.webhookStoreWait(),
            clock,
            meters);

    reconciler =
        new Reconciler(
            tx,
            gateway,
            webhooks,
            StripeEventParser::parse,
            customers,
            subscriptions,
            payments,
            clock,
            meters);

    meterReporter = new MeterReporter(tx, gateway, customers, clock, meters);

    CheckoutService checkout =
        new CheckoutService(
            tx,
            gateway,
            config.catalog(),
            new UrlPolicy(config.allowedOrigins()),
            referrals,
            customers,
            payments,
            entitlementRules);
    pruner = new ChangeLogPruner(tx, config.stream().retention(), clock);
    pruner.addListener(streams::pruned);
    maintenance =
        new SubscriptionMaintenance(
            tx,
            subscriptions,
            gateway,
            config.pastDueGrace(),
            config.resilience().placeholderConfirmAfter(),
            clock);

    PaymentOperations paymentOps = new PaymentOperations(tx, gateway, audit);
    CancellationService cancellations =
        new CancellationService(tx, gateway, audit, entitlementRules);
    BillingGrpcService billing =
        new BillingGrpcService(
            new BillingGrpcService.Services(
                entitlements,
                credits,
                streams,
                checkout,
                paymentOps,
                cancellations,
                referrals,
                audit,
                webhooks,
                reconciler,
                usage,
                meterReporter,
                new PlanChangeService(
                    tx, config.catalog(), entitlementRules, gateway, audit, clock),
                new PaymentMethods(tx, customers, gateway, audit),
                config.catalog()));
    grpc =
        new GrpcServer(
            grpcBuilder,
            // The change stream's messages are serialized once per change, not once per stream.
            () -> SharedResponses.bind(billing.bindService(), streams.responses()),
            List.of(new AuthInterceptor(tokens)),
            config.shutdownGrace());
    WebhookHttpHandler webhookHandler =
        new WebhookHttpHandler(
            new SignatureVerifier(
                config.stripe().webhookSecrets(), config.webhooks().signatureTolerance(), clock),
            webhooks);
    http = new HttpServer(config.httpPort(), webhookHandler, health, meters);

    TokenReloader tokenReloader = new TokenReloader(tokens, config.tokensReload(), meters);
    // The database answered the migrations; if it blips while the rest starts, wait for it.
    for (int attempt = 1; ; attempt++) {
      awaitDatabase(health, Duration.ofSeconds(60));
      try {
        feed.start();
        break;
      } catch (dev.billing.error.BillingException.Unavailable e) {
        if (attempt == 10) {
          throw e;
        }
      }
    }
    webhooks.start();
    // The background work too runs while the path warms up: its statements go through the same
    // database code, and the compiled code is shaped by all of them, not recompiled when they come.
    maintenance.start(config.maintenanceInterval());
    pruner.start(config.stream().pruneInterval());
    reconciler.start(resilience.reconcileInterval());
    meterReporter.start(resilience.meterReportInterval());
    usage.start(2);
    // Before the HTTP port opens: the first real deliveries find the write path compiled. The
    // ports are held meanwhile, so none becomes the local port of one of the warm-up's own
    // connections. gRPC starts first, not serving (grpc.health.v1) until the warm-up is done:
    // starting it loads classes (Netty's) that would otherwise make the JIT throw away code the
    // warm-up compiled (the HTTP read path's, "made not entrant: marked for deoptimization").
    try (PortReservation ports = PortReservation.of(config.httpPort(), config.console().port())) {
      grpc.start(false);
      // GrantCredits' path first: its mutations take branches the webhook groups never take, and
      // run after the webhook warm-up they deoptimised code it had compiled, which the first real
      // deliveries then compiled again (journal, "The warm-up's listeners").
      if (config.webhooks().warmupEvents() > 0) {
        credits.warmUp(CREDIT_WARMUP, CREDIT_WARMUP_BUDGET);
      }
      new WebhookWarmup(
              webhookHandler,
              http::loopbackTwin,
              webhooks,
              config.catalog(),
              config.stripe().webhookSecrets().get(0),
              clock,
              meters,
              () -> new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))
          .run(config.webhooks().warmupEvents(), config.webhooks().warmupBudget());
    }
    // The objects start-up leaves alive (configuration, catalogs, pools, the warm-up's caches)
    // move to the old generation now, in one collection, instead of being copied from survivor
    // space to survivor space by each of the next fifteen young collections while calls wait.
    System.gc();
    grpc.setServing(health.isUp());
    health.addListener(
        new DatabaseHealth.Listener() {
          @Override
          public void databaseDown() {
            grpc.setServing(false);
            database.evictConnections();
          }

          @Override
          public void databaseUp() {
            database.evictConnections();
            grpc.setServing(true);
          }
        });
    http.start();
    if (config.console().port() != null) {
      console =
          new ConsoleServer(
              config.console().bind(),
              config.console().port(),
              config.console().secureCookie(),
              new ConsoleServer.Services(
                  tokens,
                  entitlements,
                  credits,
                  paymentOps,
                  new SubscriptionQueries(tx),
                  customers,
                  webhooks,
                  audit,
                  feed,
                  cancellations,
                  reconciler));
      console.start();
      closeOrder.add(console);
    } else {
      console = null;
    }
    // Close in this order: stop taking work, end streams (clients resume elsewhere), then storage.
    closeOrder.add(tokenReloader);
    closeOrder.add(streams);
    closeOrder.add(feed);
    closeOrder.add(grpc);
    if (transportThreads != null) {
      closeOrder.add(transportThreads);
    }
    closeOrder.add(http);
    closeOrder.add(webhooks);
    closeOrder.add(maintenance);
    closeOrder.add(pruner);
    closeOrder.add(reconciler);
    closeOrder.add(usage::stop);
    closeOrder.add(meterReporter);
    closeOrder.add(health);
    closeOrder.add(database);
    closeOrder.add(gc);
  }

  /** Waits (bounded) until the database answers, so a restart of it next to ours is ridden out. */
  private static void awaitDatabase(DatabaseHealth health, Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (!health.probeOnce()) {
      if (System.nanoTime() > deadline) {
        throw new dev.billing.error.BillingException.Unavailable(
            "DATABASE_UNAVAILABLE", "the database did not answer within " + atMost, null);
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** Starts the service on the ports of its configuration (0 = any free port). */
  public static BillingServer start(BillingConfig config) throws IOException {
    TransportThreads threads = new TransportThreads();
    try {
      return start(config, netty(config, threads), threads, Clock.systemUTC());
    } catch (IOException | RuntimeException e) {
      threads.close();
      throw e;
    }
  }

  private static NettyServerBuilder netty(BillingConfig config, TransportThreads threads)
      throws IOException {
    NettyServerBuilder netty =
        threads
            .serveOn(NettyServerBuilder.forPort(config.grpcPort()))
            // A restart binds its port while connections of the last run are still in TIME_WAIT.
            .withOption(ChannelOption.SO_REUSEADDR, true)
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .maxInboundMessageSize(1 << 20)
            .directExecutor()
            .callExecutor(new HotPathExecutors(config.database().poolSize()));
    BillingConfig.TlsConfig tls = config.tls();
    if (tls.enabled()) {
      var ssl = GrpcSslContexts.forServer(tls.certChain().toFile(), tls.privateKey().toFile());
      if (tls.clientCa() != null) {
        ssl.trustManager(tls.clientCa().toFile()).clientAuth(ClientAuth.REQUIRE);
      }
      netty.sslContext(ssl.build());
      log.info(
          "gRPC TLS on{}",
          tls.clientCa() != null ? " with client certificates required (mTLS)" : "");
    }
    return netty;
  }

  public static BillingServer start(BillingConfig config, ServerBuilder<?> grpcBuilder, Clock clock)
      throws IOException {
    return start(config, grpcBuilder, null, clock);
  }

  private static BillingServer start(
      BillingConfig config,
      ServerBuilder<?> grpcBuilder,
      TransportThreads transportThreads,
      Clock clock)
      throws IOException {
    BillingServer server = new BillingServer(config, grpcBuilder, transportThreads, clock);
    log.info(
        "billing service up: gRPC on :{}, HTTP on :{}, Stripe at {}{}, {}",
        server.grpcPort(),
        server.httpPort(),
        config.stripe().apiBase(),
        config.stripe().emulated() ? " (test key: an emulator)" : "",
        server.database);
    return server;
  }

  public int grpcPort() {
    return grpc.port();
  }

  public int httpPort() {
    return http.port();
  }

  public EntitlementSnapshots entitlements() {
    return entitlements;
  }

  public ChangeLogPruner pruner() {
    return pruner;
  }

  public ChangeFeed feed() {
    return feed;
  }

  public CreditService credits() {
    return credits;
  }

  public Database database() {
    return database;
  }

  /** The operator console, or null when BILLING_CONSOLE_PORT is not set. */
  public ConsoleServer console() {
    return console;
  }

  public MeterReporter meterReporter() {
    return meterReporter;
  }

  public Reconciler reconciler() {
    return reconciler;
  }

  public WebhookProcessor webhooks() {
    return webhooks;
  }

  @Override
  public void close() {
    for (AutoCloseable c : closeOrder) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("error while stopping {}: {}", c.getClass().getSimpleName(), e.getMessage());
      }
    }
    log.info("billing service stopped");
  }
}
