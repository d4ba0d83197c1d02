package dev.billing.testing;

import dev.billing.config.Catalog;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.entitlement.Change;
import dev.billing.domain.entitlement.ChangeKind;
import dev.billing.domain.entitlement.EntitlementCalculator;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.domain.entitlement.UsageCount;
import dev.billing.persistence.Transactions;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * The services a write-path test builds over its own transactions: the audit log (as their commit
 * hook), entitlements over a two-plan catalog, customers without a Stripe gateway.
 */
public record TestDomain(
    Catalog catalog, AuditLog audit, EntitlementService entitlements, CustomerService customers) {

  public static TestDomain over(Transactions tx) {
    AuditLog audit = new AuditLog(tx);
    tx.addCommitHook(audit);
    Catalog catalog = Catalog.defaults("price_pro", "price_studio");
    return new TestDomain(
        catalog, audit, entitlements(tx, catalog, audit), new CustomerService(tx, null));
  }

  /** Entitlements over {@code catalog}, auditing to {@code audit} (registered by the caller). */
  public static EntitlementService entitlements(Transactions tx, Catalog catalog, AuditLog audit) {
    return new EntitlementService(
        tx,
        catalog,
        new EntitlementCalculator(catalog, Duration.ofDays(3)),
        audit,
        Clock.systemUTC());
  }

  /** A free user's row at {@code version} with {@code balance} credits. */
  public static EntitlementRow freeRow(String user, long version, long balance) {
    return new EntitlementRow(
        user, "free", "none", null, null, null, false, false, version, balance, null, null);
  }

  /** A credits change numbered {@code seq} that leaves {@code row} (free before and after). */
  public static Change creditsChange(
      long seq, EntitlementRow row, Map<String, UsageCount> counters) {
    return new Change(
        seq,
        row.userId(),
        ChangeKind.CREDITS_CHANGED,
        row,
        "free",
        "none",
        null,
        0L,
        counters,
        null);
  }
}
