package dev.billing.domain.gateway;

import java.util.List;

/**
 * An invoice as Stripe previews it (nothing is created).
 *
 * @param amountDue what the invoice would charge, in minor units
 * @param periodStart the span it bills, epoch seconds
 */
public record InvoicePreview(
    long amountDue, String currency, List<Line> lines, long periodStart, long periodEnd) {

  /** One line; a negative amount is a credit. */
  public record Line(String description, long amount, boolean proration, long start, long end) {}
}
