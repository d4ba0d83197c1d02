package dev.billing.testing;

import dev.billing.config.Catalog;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.entitlement.EntitlementCalculator;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.persistence.Transactions;
import java.time.Clock;
import java.time.Duration;

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
}
