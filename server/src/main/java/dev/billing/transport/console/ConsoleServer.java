package dev.billing.transport.console;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.billing.domain.audit.AuditEntry;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.change.ChangeFeed;
import dev.billing.domain.credits.CreditService;
import dev.billing.domain.credits.LedgerEntry;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.customer.UserIds;
import dev.billing.domain.entitlement.Change;
import dev.billing.domain.inbox.StoredEvent;
import dev.billing.domain.inbox.WebhookProcessor;
import dev.billing.domain.payment.PaymentOperations;
import dev.billing.domain.payment.PaymentRow;
import dev.billing.domain.reconcile.Reconciler;
import dev.billing.domain.subscription.CancellationService;
import dev.billing.domain.subscription.SubscriptionQueries;
import dev.billing.domain.subscription.SubscriptionRow;
import dev.billing.error.BillingException;
import dev.billing.proto.v1.Entitlement;
import dev.billing.stripe.Redaction;
import dev.billing.transport.grpc.EntitlementSnapshots;
import dev.billing.transport.grpc.Scope;
import dev.billing.transport.grpc.TokenStore;
import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RoutingHandler;
import io.undertow.server.handlers.BlockingHandler;
import io.undertow.server.handlers.form.FormData;
import io.undertow.server.handlers.form.FormParserFactory;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.StatusCodes;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator console: server-rendered pages under {@code /console/} on their own listener (never
 * the webhook port), for support staff and on-call engineers. Sign-in takes a token of the tokens
 * file with the {@code console} scope (read) or {@code admin} (actions); the session cookie is
 * HttpOnly and SameSite=Strict (Secure when {@code secureCookie}); every action carries the
 * session's CSRF token, asks for confirmation first, is idempotent and is audited with the
 * operator's name.
 */
public final class ConsoleServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConsoleServer.class);
  static final String COOKIE = "billing_console";

  /** The services the console reads and acts through. */
  public record Services(
      TokenStore tokens,
      EntitlementSnapshots entitlements,
      CreditService credits,
      PaymentOperations payments,
      SubscriptionQueries subscriptions,
      CustomerService customers,
      WebhookProcessor webhooks,
      AuditLog audit,
      ChangeFeed feed,
      CancellationService cancellations,
      Reconciler reconciler) {}

  /** A signed-in operator. */
  record Session(String id, String operator, boolean admin, String csrf) {}

  private final Services s;
  private final boolean secureCookie;
  private final Undertow undertow;
  private final SecureRandom random = new SecureRandom();
  private final Cache<String, Session> sessions =
      Caffeine.newBuilder().expireAfterAccess(Duration.ofHours(8)).maximumSize(10_000).build();

  public ConsoleServer(String bind, int port, boolean secureCookie, Services services) {
    this.s = services;
    this.secureCookie = secureCookie;
    RoutingHandler routes =
        new RoutingHandler()
            .get("/console", ex -> redirect(ex, "/console/"))
            .get("/console/login", ex -> html(ex, 200, ConsolePages.login(null)))
            .post("/console/login", this::login)
            .get("/console/", signedIn(this::home))
            .post("/console/logout", action(false, this::logout))
            .get("/console/search", signedIn(this::search))
            .get("/console/users/{id}", signedIn(this::user))
            .get("/console/users/{id}/grant", signedIn(this::confirmGrant))
            .post("/console/users/{id}/grant", action(true, this::grant))
            .get("/console/events/{id}", signedIn(this::event))
            .get("/console/payments/{id}/refund", signedIn(this::confirmRefund))
            .post("/console/payments/{id}/refund", action(true, this::refund))
            .get("/console/users/{id}/subscriptions/{sub}/cancel", signedIn(this::confirmCancel))
            .post("/console/users/{id}/subscriptions/{sub}/cancel", action(true, this::cancel))
            .get("/console/reconcile", signedIn(this::reconcilePage))
            .post("/console/reconcile", action(true, this::reconcile))
            .get("/console/dead-letters", signedIn(this::deadLetters))
            .get("/console/dead-letters/{id}/replay", signedIn(this::confirmReplay))
            .post("/console/dead-letters/{id}/replay", action(true, this::replay))
            .setFallbackHandler(ex -> html(ex, 404, ConsolePages.message("Not found", null)));
    this.undertow =
        Undertow.builder()
            .addHttpListener(port, bind)
            .setHandler(new BlockingHandler(routes))
            .build();
  }

  public void start() {
    undertow.start();
    log.info("operator console on {}", url());
  }

  public String url() {
    var info = undertow.getListenerInfo().get(0);
    var address = (java.net.InetSocketAddress) info.getAddress();
    return "http://" + address.getHostString() + ":" + address.getPort() + "/console/";
  }

  public int port() {
    return ((java.net.InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
  }

  @Override
  public void close() {
    undertow.stop();
  }

  // ------------------------------------------------------------------ plumbing

  @FunctionalInterface
  private interface Page {
    void handle(HttpServerExchange ex, Session session) throws Exception;
  }

  private Session session(HttpServerExchange ex) {
    var cookie = ex.getRequestCookie(COOKIE);
    return cookie == null ? null : sessions.getIfPresent(cookie.getValue());
  }

  /** Pages: a signed-in operator, else the sign-in page. */
  private io.undertow.server.HttpHandler signedIn(Page page) {
    return ex -> {
      Session session = session(ex);
      if (session == null) {
        redirect(ex, "/console/login");
        return;
      }
      safely(ex, session, page);
    };
  }

  /**
   * Actions: a signed-in operator, the session's CSRF token in the form, and (for {@code
   * needsAdmin}) an admin token.
   */
  private io.undertow.server.HttpHandler action(boolean needsAdmin, Page page) {
    return ex -> {
      Session session = session(ex);
      if (session == null) {
        html(ex, 401, ConsolePages.message("Sign in first", null));
        return;
      }
      FormData form = form(ex);
      if (!session.csrf().equals(value(form, "csrf"))) {
        html(ex, 403, ConsolePages.message("Refused: the form is stale or forged (CSRF)", session));
        return;
      }
      if (needsAdmin && !session.admin()) {
        html(
            ex,
            403,
            ConsolePages.message(
                "Refused: actions need a token with the admin scope; "
                    + session.operator()
                    + " signed in with console (read only)",
                session));
        return;
      }
      ex.putAttachment(FORM, form);
      safely(ex, session, page);
    };
  }

  private static final io.undertow.util.AttachmentKey<FormData> FORM =
      io.undertow.util.AttachmentKey.create(FormData.class);

  private void safely(HttpServerExchange ex, Session session, Page page) {
    try {
      page.handle(ex, session);
    } catch (BillingException.Unavailable e) {
      html(ex, 503, ConsolePages.message("Unavailable: " + e.getMessage(), session));
    } catch (BillingException e) {
      html(ex, 400, ConsolePages.message(e.getMessage(), session));
    } catch (Exception e) {
      log.error("console page failed", e);
      html(ex, 500, ConsolePages.message("Something went wrong; see the server log", session));
    }
  }

  private static FormData form(HttpServerExchange ex) throws IOException {
    var parser = FormParserFactory.builder().build().createParser(ex);
    FormData data = parser == null ? new FormData(0) : parser.parseBlocking();
    return data;
  }

  private static String value(FormData form, String name) {
    var v = form.getFirst(name);
    return v == null ? null : v.getValue();
  }

  private static String param(HttpServerExchange ex, String name) {
    var q = ex.getQueryParameters().get(name);
    return q == null || q.isEmpty() ? null : q.getFirst();
  }

  static void html(HttpServerExchange ex, int status, String body) {
    ex.setStatusCode(status);
    var h = ex.getResponseHeaders();
    h.put(Headers.CONTENT_TYPE, "text/html; charset=utf-8");
    h.put(Headers.CACHE_CONTROL, "no-store");
    h.put(
        new HttpString("Content-Security-Policy"), "default-src 'self'; style-src 'unsafe-inline'");
    h.put(new HttpString("X-Frame-Options"), "DENY");
    h.put(new HttpString("Referrer-Policy"), "no-referrer");
    h.put(new HttpString("X-Content-Type-Options"), "nosniff");
    ex.getResponseSender().send(body);
  }

  private static void redirect(HttpServerExchange ex, String to) {
    ex.setStatusCode(StatusCodes.SEE_OTHER);
    ex.getResponseHeaders().put(Headers.LOCATION, to);
    ex.endExchange();
  }

  private String token() {
    byte[] b = new byte[32];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private void audit(String userId, Session session, String entityType, String id, String action) {
    s.audit().recordNow(userId, Cause.api("console:" + session.operator()), entityType, id, action);
  }

  // ------------------------------------------------------------------ pages

  private void login(HttpServerExchange ex) throws IOException {
    FormData form = form(ex);
    String token = value(form, "token");
    TokenStore.Caller caller = token == null ? null : s.tokens().authenticate(token.strip());
    if (caller == null || !caller.may(Scope.CONSOLE)) {
      s.audit()
          .recordNow(
              null,
              Cause.api(caller == null ? "console" : "console:" + caller.service()),
              "console",
              "login",
              "console.login_refused");
      html(
          ex,
          401,
          ConsolePages.login(
              caller == null
                  ? "That token is not in the tokens file."
                  : "That token has no console or admin scope."));
      return;
    }
    Session session =
        new Session(token(), caller.service(), caller.scopes().contains(Scope.ADMIN), token());
    sessions.put(session.id(), session);
    ex.getResponseHeaders()
        .add(
            Headers.SET_COOKIE,
            COOKIE
                + "="
                + session.id()
                + "; Path=/console; HttpOnly; SameSite=Strict"
                + (secureCookie ? "; Secure" : ""));
    audit(null, session, "console", "login", "console.login");
    redirect(ex, "/console/");
  }

  private void logout(HttpServerExchange ex, Session session) {
    sessions.invalidate(session.id());
    ex.getResponseHeaders()
        .add(Headers.SET_COOKIE, COOKIE + "=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    redirect(ex, "/console/login");
  }

  private void home(HttpServerExchange ex, Session session) {
    html(ex, 200, ConsolePages.home(session, null));
  }

  /** A user id, a Stripe customer id (cus_) or subscription id (sub_). */
  private void search(HttpServerExchange ex, Session session) {
    String q = param(ex, "q");
    q = q == null ? "" : q.strip();
    String user = null;
    if (q.contains("@")) {
      List<String> users = s.customers().usersByEmail(q);
      if (users.size() > 1) {
        html(ex, 200, ConsolePages.choose(session, q, users));
        return;
      }
      user = users.isEmpty() ? null : users.get(0);
    } else if (q.startsWith("cus_")) {
      user = s.customers().userOf(q);
    } else if (q.startsWith("sub_")) {
      user = s.subscriptions().userOf(q);
    } else if (UserIds.isValid(q)) {
      user = q;
    }
    if (user == null) {
      html(ex, 404, ConsolePages.home(session, "No user for \u201c" + q + "\u201d."));
      return;
    }
    redirect(ex, "/console/users/" + URLEncoder.encode(user, StandardCharsets.UTF_8));
  }

  private void user(HttpServerExchange ex, Session session) {
    String user = param(ex, "id");
    if (!UserIds.isValid(user)) {
      html(ex, 400, ConsolePages.message("Not a user id", session));
      return;
    }
    Entitlement e = s.entitlements().snapshot(user).response().getEntitlement();
    List<LedgerEntry> ledger = s.credits().transactions(user, Long.MAX_VALUE, 100);
    List<PaymentRow> payments = s.payments().list(user, 0, 50);
    List<SubscriptionRow> subscriptions = s.subscriptions().ofUser(user);
    List<AuditEntry> timeline = s.audit().entries(user, Long.MAX_VALUE, 100);
    List<Change> changes = s.feed().newestOfUser(user, 100);
    html(
        ex,
        200,
        ConsolePages.user(
            session,
            e,
            s.customers().customerOf(user),
            ledger,
            payments,
            subscriptions,
            timeline,
            changes,
            param(ex, "done")));
  }

  private void confirmGrant(HttpServerExchange ex, Session session) {
    String user = param(ex, "id");
    long amount = parseAmount(param(ex, "amount"));
    String reason = param(ex, "reason");
    if (!UserIds.isValid(user) || amount <= 0 || reason == null || reason.isBlank()) {
      html(ex, 400, ConsolePages.message("Give a user, a positive amount and a reason", session));
      return;
    }
    long balance = s.entitlements().snapshot(user).row().creditBalance();
    html(
        ex,
        200,
        ConsolePages.confirmGrant(
            session, user, amount, reason.strip(), balance, UUID.randomUUID().toString()));
  }

  private void grant(HttpServerExchange ex, Session session) {
    String user = param(ex, "id");
    FormData form = ex.getAttachment(FORM);
    long amount = parseAmount(value(form, "amount"));
    String reason = value(form, "reason");
    String key = value(form, "key");
    if (!UserIds.isValid(user) || amount <= 0 || reason == null || key == null) {
      html(ex, 400, ConsolePages.message("Give a user, a positive amount and a reason", session));
      return;
    }
    var r =
        s.credits()
            .grant(
                user,
                amount,
                "console:" + key,
                reason + " (console, " + session.operator() + ")",
                Cause.api("console:" + session.operator()));
    backToUser(
        ex,
        user,
        (r.replayed() ? "Already granted" : "Granted " + amount + " credits")
            + "; balance "
            + r.balance());
  }

  private void confirmRefund(HttpServerExchange ex, Session session) {
    PaymentRow p = s.payments().get(param(ex, "id"));
    html(ex, 200, ConsolePages.confirmRefund(session, p, UUID.randomUUID().toString()));
  }

  private void refund(HttpServerExchange ex, Session session) {
    FormData form = ex.getAttachment(FORM);
    PaymentRow p = s.payments().get(param(ex, "id"));
    var r =
        s.payments()
            .refund(
                p.id(),
                null,
                "console:" + value(form, "key"),
                "console refund by " + session.operator(),
                Cause.api("console:" + session.operator()));
    backToUser(
        ex,
        p.userId(),
        "Refund " + r.refundId() + " of payment " + p.id() + " requested from Stripe");
  }

  private void confirmCancel(HttpServerExchange ex, Session session) {
    html(
        ex,
        200,
        ConsolePages.confirmCancel(
            session, param(ex, "id"), param(ex, "sub"), UUID.randomUUID().toString()));
  }

  private void cancel(HttpServerExchange ex, Session session) {
    FormData form = ex.getAttachment(FORM);
    String user = param(ex, "id");
    boolean atPeriodEnd = !"now".equals(value(form, "when"));
    String sub =
        s.cancellations()
            .cancel(
                user,
                param(ex, "sub"),
                atPeriodEnd,
                "console:" + value(form, "key"),
                Cause.api("console:" + session.operator()));
    backToUser(
        ex,
        user,
        "Asked Stripe to cancel "
            + sub
            + (atPeriodEnd ? " at the end of the period" : " now")
            + "; the tier follows Stripe's event");
  }

  /** The last drift report an operator asked for (a dry run: nothing repaired). */
  private volatile Reconciler.Report lastReport;

  private volatile String lastReportBy;

  private void reconcilePage(HttpServerExchange ex, Session session) {
    html(ex, 200, ConsolePages.reconcile(session, lastReport, lastReportBy));
  }

  private void reconcile(HttpServerExchange ex, Session session) {
    lastReport = s.reconciler().reconcile(null, true);
    lastReportBy = session.operator() + " at " + Instant.now();
    audit(null, session, "reconcile", "dry-run", "console.reconcile_dry_run");
    redirect(ex, "/console/reconcile");
  }

  /** Back to the user's page, with what was done. */
  private static void backToUser(HttpServerExchange ex, String user, String done) {
    redirect(
        ex,
        "/console/users/"
            + URLEncoder.encode(user, StandardCharsets.UTF_8)
            + "?done="
            + URLEncoder.encode(done, StandardCharsets.UTF_8));
  }

  private static long parseAmount(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private void event(HttpServerExchange ex, Session session) {
    StoredEvent e = s.webhooks().event(param(ex, "id"));
    if (e == null) {
      html(ex, 404, ConsolePages.message("No such event in the inbox", session));
      return;
    }
    html(ex, 200, ConsolePages.event(session, e, Redaction.redact(e.payload())));
  }

  private void deadLetters(HttpServerExchange ex, Session session) {
    html(
        ex,
        200,
        ConsolePages.deadLetters(
            session, s.webhooks().events(StoredEvent.DEAD, 0, 200), param(ex, "done")));
  }

  private void confirmReplay(HttpServerExchange ex, Session session) {
    StoredEvent e = s.webhooks().event(param(ex, "id"));
    if (e == null) {
      html(ex, 404, ConsolePages.message("No such event in the inbox", session));
      return;
    }
    html(ex, 200, ConsolePages.confirmReplay(session, e));
  }

  private void replay(HttpServerExchange ex, Session session) {
    String id = param(ex, "id");
    StoredEvent requeued = s.webhooks().replay(id);
    audit(null, session, "event", id, "console.replay");
    redirect(
        ex,
        "/console/dead-letters?done="
            + URLEncoder.encode(
                "Event "
                    + id
                    + " requeued ("
                    + requeued.status()
                    + "); it is applied within seconds",
                StandardCharsets.UTF_8));
  }

  static String time(long epochMillis) {
    return Instant.ofEpochMilli(epochMillis)
        .toString()
        .replace("T", " ")
        .replaceAll("\\.\\d+Z", "Z");
  }
}
