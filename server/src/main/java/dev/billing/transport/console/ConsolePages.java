package dev.billing.transport.console;

import dev.billing.domain.audit.AuditEntry;
import dev.billing.domain.credits.LedgerEntry;
import dev.billing.domain.entitlement.Change;
import dev.billing.domain.inbox.StoredEvent;
import dev.billing.domain.payment.PaymentRow;
import dev.billing.domain.reconcile.Reconciler;
import dev.billing.domain.subscription.SubscriptionRow;
import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.MetricUsage;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The console's server-rendered pages: plain HTML and one inline SVG, readable contrast. */
final class ConsolePages {
  private ConsolePages() {}

  private static final String STYLE =
      "<style>"
          + "body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}"
          + "header{background:#12355b;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center}"
          + "header a{color:#fff}main{padding:1rem;max-width:72rem}"
          + "a{color:#0b4fa8}a:focus,button:focus,input:focus{outline:3px solid #f2a900;outline-offset:2px}"
          + ".skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.3rem}"
          + "table{border-collapse:collapse;width:100%;margin:.5rem 0 1.2rem}th,td{border-bottom:1px solid #c8c8c8;"
          + "text-align:left;padding:.3rem .5rem;vertical-align:top}th{background:#eef2f6}"
          + ".note{color:#3d3d3d}.done{background:#e3f4e8;border:1px solid #1e7b3a;padding:.5rem}"
          + ".error{background:#fdecea;border:1px solid #a4262c;padding:.5rem}"
          + "button{background:#12355b;color:#fff;border:0;padding:.45rem .9rem;border-radius:4px;cursor:pointer}"
          + "button.secondary{background:#5c5c5c}label{display:block;margin-top:.5rem}"
          + "input{padding:.35rem;border:1px solid #6b6b6b;border-radius:3px}"
          + ".bar{background:#dfe5ec;width:16rem;height:.8rem;display:inline-block;vertical-align:middle}"
          + ".bar span{display:block;height:100%;background:#1e6a3a}.bar span.over{background:#a4262c}"
          + "pre{background:#f4f4f4;padding:.8rem;overflow:auto;max-height:40rem}"
          + "</style>";

  static String escape(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  private static String url(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String page(String title, ConsoleServer.Session session, String body) {
    StringBuilder b =
        new StringBuilder("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .append(escape(title))
            .append(" — billing console</title>")
            .append(STYLE)
            .append("</head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header>")
            .append("<strong>Billing console</strong>");
    if (session != null) {
      b.append("<a href=\"/console/\">Search</a><a href=\"/console/dead-letters\">Dead letters</a>")
          .append("<a href=\"/console/reconcile\">Reconciliation</a>")
          .append("<span>")
          .append(escape(session.operator()))
          .append(session.admin() ? " (admin)" : " (read only)")
          .append("</span><form method=\"post\" action=\"/console/logout\">")
          .append(csrf(session))
          .append("<button class=\"secondary\" id=\"logout\">Sign out</button></form>");
    }
    return b.append("</header><main id=\"main\">")
        .append(body)
        .append("</main></body></html>")
        .toString();
  }

  private static String csrf(ConsoleServer.Session session) {
    return "<input type=\"hidden\" name=\"csrf\" value=\"" + escape(session.csrf()) + "\">";
  }

  static String message(String text, ConsoleServer.Session session) {
    return page(
        "Message",
        session,
        "<h1 id=\"status\">" + escape(text) + "</h1><p><a href=\"/console/\">Back</a></p>");
  }

  static String login(String error) {
    return page(
        "Sign in",
        null,
        "<h1>Sign in</h1>"
            + (error == null
                ? ""
                : "<p class=\"error\" id=\"error\" role=\"alert\">" + escape(error) + "</p>")
            + "<form method=\"post\" action=\"/console/login\"><label for=\"token\">Token"
            + " (a line of the tokens file with the console or admin scope)</label>"
            + "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" size=\"40\" required>"
            + " <button id=\"sign-in\">Sign in</button></form>");
  }

  static String home(ConsoleServer.Session session, String error) {
    return page(
        "Search",
        session,
        "<h1>Find a user</h1>"
            + (error == null
                ? ""
                : "<p class=\"error\" id=\"error\" role=\"alert\">" + escape(error) + "</p>")
            + "<form method=\"get\" action=\"/console/search\"><label for=\"q\">User id, Stripe customer"
            + " (cus_…) or subscription (sub_…)</label><input id=\"q\" name=\"q\" size=\"40\" required>"
            + " <button id=\"search\">Find</button></form>");
  }

  private static String when(Long epochSeconds) {
    return epochSeconds == null || epochSeconds == 0
        ? "—"
        : Instant.ofEpochSecond(epochSeconds).toString().replace("T", " ");
  }

  static String user(
      ConsoleServer.Session session,
      Entitlement e,
      String customer,
      List<LedgerEntry> ledger,
      List<PaymentRow> payments,
      List<SubscriptionRow> subscriptions,
      List<AuditEntry> timeline,
      List<Change> changes,
      String done) {
    String user = e.getUserId();
    StringBuilder b = new StringBuilder();
    b.append("<h1>").append(escape(user)).append("</h1>");
    if (done != null) {
      b.append("<p class=\"done\" id=\"done\" role=\"status\">")
          .append(escape(done))
          .append("</p>");
    }
    b.append("<table aria-label=\"Entitlement\"><tr><th>Tier</th><td id=\"tier\">")
        .append(escape(e.getTier()))
        .append("</td><th>Status</th><td id=\"sub-status\">")
        .append(escape(e.getStatus().name().replace("SUBSCRIPTION_STATUS_", "").toLowerCase()))
        .append("</td></tr><tr><th>Period ends</th><td>")
        .append(escape(e.hasCurrentPeriodEnd() ? when(e.getCurrentPeriodEnd().getSeconds()) : "—"))
        .append("</td><th>Credit balance</th><td id=\"balance\">")
        .append(e.getCreditBalance())
        .append("</td></tr><tr><th>Stripe customer</th><td>")
        .append(escape(customer == null ? "—" : customer))
        .append("</td><th>Payment problem</th><td>")
        .append(e.getPaymentProblem() ? "yes: the last payment failed" : "no")
        .append("</td></tr><tr><th>Pending plan change</th><td colspan=\"3\">")
        .append(
            e.hasPendingPlanChange()
                ? escape(
                    e.getPendingPlanChange().getPlan()
                        + " from "
                        + when(e.getPendingPlanChange().getEffectiveAt().getSeconds()))
                : "none")
        .append("</td></tr></table>");
    if (e.getUsageCount() > 0) {
      b.append(
          "<h2>Usage</h2><table><tr><th>Metric</th><th>Used</th><th></th><th>Resets</th></tr>");
      for (MetricUsage u : e.getUsageList()) {
        long pct = u.getLimit() == 0 ? 100 : Math.min(100, u.getUsed() * 100 / u.getLimit());
        b.append("<tr><td>")
            .append(escape(u.getMetric()))
            .append("</td><td>")
            .append(u.getUsed())
            .append(" of ")
            .append(u.getLimit())
            .append("</td><td><span class=\"bar\" role=\"img\" aria-label=\"")
            .append(pct)
            .append("% used\"><span class=\"")
            .append(u.getUsed() >= u.getLimit() ? "over" : "")
            .append("\" style=\"width:")
            .append(pct)
            .append("%\"></span></span></td><td>")
            .append(u.hasResetsAt() ? escape(when(u.getResetsAt().getSeconds())) : "never")
            .append("</td></tr>");
      }
      b.append("</table>");
    }
    b.append("<h2>Tier and balance over time</h2>").append(chart(ledger, timeline));
    if (session.admin()) {
      b.append("<h2>Grant credits</h2><form method=\"get\" action=\"/console/users/")
          .append(escape(url(user)))
          .append(
              "/grant\"><label for=\"amount\">Credits</label><input id=\"amount\" name=\"amount\"")
          .append(" inputmode=\"numeric\" required><label for=\"reason\">Reason</label>")
          .append("<input id=\"reason\" name=\"reason\" size=\"40\" required> ")
          .append("<button id=\"grant\">Review the grant</button></form>");
    }
    b.append("<h2>Subscriptions</h2><table><tr><th>Subscription</th><th>Plan</th><th>Status</th>")
        .append("<th>Period ends</th><th>Cancels at period end</th><th></th></tr>");
    for (SubscriptionRow r : subscriptions) {
      b.append("<tr><td>")
          .append(escape(r.stripeSubscriptionId()))
          .append("</td><td>")
          .append(escape(r.plan()))
          .append("</td><td>")
          .append(escape(r.status()))
          .append("</td><td>")
          .append(escape(when(r.currentPeriodEnd())))
          .append("</td><td>")
          .append(r.cancelAtPeriodEnd() ? "yes" : "no")
          .append("</td><td>")
          .append(
              session.admin()
                      && ("active".equals(r.status())
                          || "trialing".equals(r.status())
                          || "past_due".equals(r.status()))
                  ? "<a class=\"cancel\" href=\"/console/users/"
                      + escape(url(user))
                      + "/subscriptions/"
                      + escape(url(r.stripeSubscriptionId()))
                      + "/cancel\">Cancel…</a>"
                  : "")
          .append("</td></tr>");
    }
    b.append(
            "</table><h2>Credit ledger</h2><table><tr><th>When</th><th>Change</th><th>Balance</th>")
        .append("<th>Kind</th><th>Reason</th><th>By</th></tr>");
    for (LedgerEntry l : ledger) {
      b.append("<tr><td>")
          .append(escape(ConsoleServer.time(l.createdAtMillis())))
          .append("</td><td>")
          .append(l.delta() > 0 ? "+" : "")
          .append(l.delta())
          .append("</td><td>")
          .append(l.balanceAfter())
          .append("</td><td>")
          .append(escape(l.kind()))
          .append("</td><td>")
          .append(escape(l.reason()))
          .append("</td><td>")
          .append(escape(l.actor()))
          .append(eventLink(l.stripeEventId()))
          .append("</td></tr>");
    }
    b.append("</table><h2>Payments</h2><table><tr><th>Payment</th><th>Kind</th><th>Status</th>")
        .append("<th>Amount</th><th>Refunded</th><th></th></tr>");
    for (PaymentRow p : payments) {
      b.append("<tr><td>")
          .append(escape(p.id()))
          .append("</td><td>")
          .append(escape(p.kind()))
          .append("</td><td>")
          .append(escape(p.status()))
          .append(p.failureCode() == null ? "" : " (" + escape(p.failureCode()) + ")")
          .append("</td><td>")
          .append(p.amount())
          .append(' ')
          .append(escape(p.currency()))
          .append("</td><td>")
          .append(p.amountRefunded())
          .append("</td><td>")
          .append(
              session.admin() && p.isSettledSuccessfully() && p.amountRefunded() < p.amount()
                  ? "<a class=\"refund\" href=\"/console/payments/"
                      + escape(url(p.id()))
                      + "/refund\">Refund…</a>"
                  : "")
          .append("</td></tr>");
    }
    b.append("</table><h2>Timeline</h2><p class=\"note\">Newest first: every change to this user")
        .append(" (audit entries, and the changes the stream carried with their seq), who or which")
        .append(" Stripe event made it; open an event for its payload.</p>")
        .append(
            "<table id=\"timeline\"><tr><th>When</th><th>What</th><th>Before</th><th>After</th>")
        .append("<th>By</th></tr>");
    List<String[]> rows = new ArrayList<>();
    for (AuditEntry a : timeline) {
      rows.add(
          new String[] {
            Long.toString(a.createdAtMillis()),
            a.action(),
            a.oldValue(),
            a.newValue(),
            a.actor(),
            a.stripeEventId()
          });
    }
    for (Change c : changes) {
      rows.add(
          new String[] {
            Long.toString(c.occurredAtMillis()),
            "stream #" + c.seq() + " " + c.kind().stored().replace("CHANGE_KIND_", ""),
            c.previousTier(),
            c.entitlement().tier() + " v" + c.entitlement().version(),
            c.stripeEventId() == null ? "api" : "stripe",
            c.stripeEventId()
          });
    }
    rows.sort((x, y) -> Long.compare(Long.parseLong(y[0]), Long.parseLong(x[0])));
    for (String[] r : rows) {
      b.append("<tr><td>")
          .append(escape(ConsoleServer.time(Long.parseLong(r[0]))))
          .append("</td><td>")
          .append(escape(r[1]))
          .append("</td><td>")
          .append(escape(r[2]))
          .append("</td><td>")
          .append(escape(r[3]))
          .append("</td><td>")
          .append(escape(r[4]))
          .append(eventLink(r[5]))
          .append("</td></tr>");
    }
    b.append("</table>");
    return page(user, session, b.toString());
  }

  private static String eventLink(String eventId) {
    return eventId == null
        ? ""
        : " <a class=\"event\" href=\"/console/events/"
            + escape(url(eventId))
            + "\">"
            + escape(eventId)
            + "</a>";
  }

  /**
   * The balance after each ledger row as a line, and each tier change as a labelled mark, over the
   * same time axis (inline SVG, no script).
   */
  static String chart(List<LedgerEntry> ledger, List<AuditEntry> timeline) {
    // A step line: the balance before and after each ledger row, held until now.
    List<long[]> balance = new ArrayList<>();
    for (int i = ledger.size() - 1; i >= 0; i--) {
      LedgerEntry l = ledger.get(i);
      balance.add(new long[] {l.createdAtMillis(), l.balanceAfter() - l.delta()});
      balance.add(new long[] {l.createdAtMillis(), l.balanceAfter()});
    }
    if (!balance.isEmpty()) {
      balance.add(new long[] {System.currentTimeMillis(), balance.getLast()[1]});
    }
    List<String[]> tiers = new ArrayList<>();
    for (int i = timeline.size() - 1; i >= 0; i--) {
      AuditEntry a = timeline.get(i);
      if ("entitlement.changed".equals(a.action()) && a.newValue() != null) {
        String v = a.newValue();
        int t = v.indexOf("tier=");
        String tier = t < 0 ? "?" : v.substring(t + 5).split(" ")[0];
        tiers.add(new String[] {Long.toString(a.createdAtMillis()), tier});
      }
    }
    if (balance.isEmpty() && tiers.isEmpty()) {
      return "<p class=\"note\">No credit movement or tier change yet.</p>";
    }
    long t0 = Long.MAX_VALUE;
    long t1 = Long.MIN_VALUE;
    long max = 1;
    for (long[] p : balance) {
      t0 = Math.min(t0, p[0]);
      t1 = Math.max(t1, p[0]);
      max = Math.max(max, p[1]);
    }
    for (String[] t : tiers) {
      t0 = Math.min(t0, Long.parseLong(t[0]));
      t1 = Math.max(t1, Long.parseLong(t[0]));
    }
    long span = Math.max(1, t1 - t0);
    int w = 640;
    int h = 160;
    StringBuilder svg =
        new StringBuilder("<svg id=\"chart\" role=\"img\" width=\"")
            .append(w + 40)
            .append("\" height=\"")
            .append(h + 40)
            .append("\" aria-label=\"Credit balance (line, from 0 to ")
            .append(max)
            .append(") and tier changes (marks) over time\">")
            .append("<line x1=\"20\" y1=\"")
            .append(h + 10)
            .append("\" x2=\"")
            .append(w + 20)
            .append("\" y2=\"")
            .append(h + 10)
            .append("\" stroke=\"#6b6b6b\"/>");
    if (!balance.isEmpty()) {
      svg.append("<polyline fill=\"none\" stroke=\"#12355b\" stroke-width=\"2\" points=\"");
      for (long[] p : balance) {
        long x = 20 + (p[0] - t0) * w / span;
        long y = 10 + h - p[1] * h / max;
        svg.append(x).append(',').append(y).append(' ');
      }
      svg.append("\"/><text x=\"22\" y=\"20\" font-size=\"12\" fill=\"#12355b\">balance, max ")
          .append(max)
          .append("</text>");
    }
    for (String[] t : tiers) {
      long x = 20 + (Long.parseLong(t[0]) - t0) * w / span;
      svg.append("<line x1=\"")
          .append(x)
          .append("\" y1=\"10\" x2=\"")
          .append(x)
          .append("\" y2=\"")
          .append(h + 10)
          .append("\" stroke=\"#a15c00\" stroke-dasharray=\"4 3\"/><text x=\"")
          .append(x + 3)
          .append("\" y=\"")
          .append(h + 28)
          .append("\" font-size=\"12\" fill=\"#7a4500\">")
          .append(escape(t[1]))
          .append("</text>");
    }
    return svg.append("</svg>").toString();
  }

  static String confirmGrant(
      ConsoleServer.Session session,
      String user,
      long amount,
      String reason,
      long balance,
      String key) {
    return page(
        "Confirm grant",
        session,
        "<h1>Grant "
            + amount
            + " credits to "
            + escape(user)
            + "?</h1><p id=\"effect\">The balance goes from "
            + balance
            + " to "
            + (balance + amount)
            + ". Reason: "
            + escape(reason)
            + ". It is recorded with your name; submitting this form twice grants once.</p>"
            + "<form method=\"post\" action=\"/console/users/"
            + escape(url(user))
            + "/grant\">"
            + csrf(session)
            + "<input type=\"hidden\" name=\"amount\" value=\""
            + amount
            + "\"><input type=\"hidden\" name=\"reason\" value=\""
            + escape(reason)
            + "\"><input type=\"hidden\" name=\"key\" value=\""
            + escape(key)
            + "\"><button id=\"confirm\">Grant "
            + amount
            + " credits</button> <a href=\"/console/users/"
            + escape(url(user))
            + "\">Cancel</a></form>");
  }

  static String event(ConsoleServer.Session session, StoredEvent e, String maskedPayload) {
    return page(
        e.id(),
        session,
        "<h1>"
            + escape(e.id())
            + "</h1><table><tr><th>Type</th><td>"
            + escape(e.type())
            + "</td><th>Status</th><td>"
            + escape(e.status())
            + "</td><th>Attempts</th><td>"
            + e.attempts()
            + "</td></tr><tr><th>Created</th><td>"
            + escape(when(e.created()))
            + "</td><th>Last error</th><td colspan=\"3\">"
            + escape(e.lastError())
            + "</td></tr></table><h2>Payload (secrets masked)</h2><pre id=\"payload\">"
            + escape(maskedPayload)
            + "</pre>");
  }

  static String deadLetters(ConsoleServer.Session session, List<StoredEvent> dead, String done) {
    StringBuilder b = new StringBuilder("<h1>Dead letters</h1>");
    if (done != null) {
      b.append("<p class=\"done\" id=\"done\" role=\"status\">")
          .append(escape(done))
          .append("</p>");
    }
    b.append("<p class=\"note\">Stripe events that failed every retry. Replaying one applies it")
        .append(" again now; an event that already took effect has none the second time.</p>")
        .append("<table id=\"dead\"><tr><th>Event</th><th>Type</th><th>Attempts</th>")
        .append("<th>Last error</th><th></th></tr>");
    for (StoredEvent e : dead) {
      b.append("<tr><td><a href=\"/console/events/")
          .append(escape(url(e.id())))
          .append("\">")
          .append(escape(e.id()))
          .append("</a></td><td>")
          .append(escape(e.type()))
          .append("</td><td>")
          .append(e.attempts())
          .append("</td><td>")
          .append(escape(e.lastError()))
          .append("</td><td>")
          .append(
              session.admin()
                  ? "<a class=\"replay\" href=\"/console/dead-letters/"
                      + escape(url(e.id()))
                      + "/replay\">Replay…</a>"
                  : "")
          .append("</td></tr>");
    }
    if (dead.isEmpty()) {
      b.append("<tr><td colspan=\"5\">None.</td></tr>");
    }
    return page("Dead letters", session, b.append("</table>").toString());
  }

  static String confirmReplay(ConsoleServer.Session session, StoredEvent e) {
    return page(
        "Confirm replay",
        session,
        "<h1>Replay "
            + escape(e.id())
            + "?</h1><p id=\"effect\">The "
            + escape(e.type())
            + " event is applied again within seconds, with a fresh retry budget; if it already took"
            + " effect it has none the second time. Recorded with your name.</p>"
            + "<form method=\"post\" action=\"/console/dead-letters/"
            + escape(url(e.id()))
            + "/replay\">"
            + csrf(session)
            + "<button id=\"confirm\">Replay the event</button> <a href=\"/console/dead-letters\">"
            + "Cancel</a></form>");
  }

  static String choose(ConsoleServer.Session session, String q, List<String> users) {
    StringBuilder b =
        new StringBuilder("<h1>Users with ").append(escape(q)).append("</h1><ul id=\"users\">");
    for (String u : users) {
      b.append("<li><a href=\"/console/users/")
          .append(escape(url(u)))
          .append("\">")
          .append(escape(u))
          .append("</a></li>");
    }
    return page("Choose a user", session, b.append("</ul>").toString());
  }

  static String confirmRefund(ConsoleServer.Session session, PaymentRow p, String key) {
    long left = p.amount() - p.amountRefunded();
    return page(
        "Confirm refund",
        session,
        "<h1>Refund payment "
            + escape(p.id())
            + "?</h1><p id=\"effect\">Stripe refunds "
            + left
            + " "
            + escape(p.currency())
            + " to "
            + escape(p.userId())
            + (PaymentRow.KIND_CREDITS.equals(p.kind())
                ? "; the credits it bought are clawed back (never below zero)"
                : "")
            + ". Recorded with your name; submitting this form twice refunds once.</p>"
            + "<form method=\"post\" action=\"/console/payments/"
            + escape(url(p.id()))
            + "/refund\">"
            + csrf(session)
            + "<input type=\"hidden\" name=\"key\" value=\""
            + escape(key)
            + "\"><button id=\"confirm\">Refund "
            + left
            + " "
            + escape(p.currency())
            + "</button> <a href=\"/console/users/"
            + escape(url(p.userId()))
            + "\">Cancel</a></form>");
  }

  static String confirmCancel(
      ConsoleServer.Session session, String user, String subscription, String key) {
    return page(
        "Confirm cancellation",
        session,
        "<h1>Cancel "
            + escape(subscription)
            + " of "
            + escape(user)
            + "?</h1><p id=\"effect\">At the end of the period the user keeps the tier until"
            + " then; now, Stripe ends it at once and the user drops to free when its event arrives."
            + " Recorded with your name; submitting twice cancels once.</p>"
            + "<form method=\"post\" action=\"/console/users/"
            + escape(url(user))
            + "/subscriptions/"
            + escape(url(subscription))
            + "/cancel\">"
            + csrf(session)
            + "<input type=\"hidden\" name=\"key\" value=\""
            + escape(key)
            + "\"><button id=\"confirm\" name=\"when\" value=\"period_end\">Cancel at period"
            + " end</button> <button id=\"confirm-now\" class=\"secondary\" name=\"when\""
            + " value=\"now\">Cancel now</button> <a href=\"/console/users/"
            + escape(url(user))
            + "\">Keep it</a></form>");
  }

  static String reconcile(ConsoleServer.Session session, Reconciler.Report report, String by) {
    StringBuilder b = new StringBuilder("<h1>Reconciliation with Stripe</h1>");
    b.append("<p class=\"note\">A dry run compares this service's events and subscriptions with")
        .append(" Stripe's and lists every difference; nothing is changed (ReconcileWithStripe, or")
        .append(" the background run, repairs).</p>");
    if (session.admin()) {
      b.append("<form method=\"post\" action=\"/console/reconcile\">")
          .append(csrf(session))
          .append("<button id=\"run\">Compare with Stripe now</button></form>");
    }
    if (report == null) {
      return page("Reconciliation", session, b.append("<p>No report yet.</p>").toString());
    }
    b.append("<p id=\"summary\">By ")
        .append(escape(by))
        .append(": ")
        .append(report.eventsListed())
        .append(" Stripe events listed, ")
        .append(report.eventsIngested())
        .append(" missing here, ")
        .append(report.subscriptionsCompared())
        .append(" subscriptions compared, ")
        .append(report.drift().size())
        .append(" differences.</p><table id=\"drift\"><tr><th>Object</th><th>User</th>")
        .append("<th>Ours</th><th>Stripe</th><th>Would</th></tr>");
    for (Reconciler.Drift d : report.drift()) {
      b.append("<tr><td>")
          .append(escape(d.objectType() + " " + d.objectId()))
          .append("</td><td>")
          .append(escape(d.userId()))
          .append("</td><td>")
          .append(escape(d.ours()))
          .append("</td><td>")
          .append(escape(d.stripe()))
          .append("</td><td>")
          .append(escape(d.action()))
          .append("</td></tr>");
    }
    return page("Reconciliation", session, b.append("</table>").toString());
  }
}
