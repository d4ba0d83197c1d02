package dev.billing.transport.grpc;

import dev.billing.config.ConfigException;
import dev.billing.util.PeriodicTask;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;

/**
 * Looks at the tokens file every {@code interval} and applies new contents, so tokens are added,
 * rotated and revoked without a restart ({@code billing_tokens_reloads_total} counts applied and
 * refused reloads).
 */
public final class TokenReloader implements AutoCloseable {
  private final PeriodicTask task;

  public TokenReloader(TokenStore tokens, Duration interval, MeterRegistry meters) {
    Counter applied = meters.counter("billing_tokens_reloads_total", "outcome", "applied");
    Counter refused = meters.counter("billing_tokens_reloads_total", "outcome", "refused");
    task =
        PeriodicTask.every(
            interval,
            "tokens-reload",
            () -> {
              try {
                if (tokens.reloadIfChanged()) {
                  applied.increment();
                }
              } catch (ConfigException e) {
                refused.increment(); // TokenStore logged why
              }
            });
  }

  @Override
  public void close() {
    task.close();
  }
}
