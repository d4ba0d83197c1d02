package dev.billing.grpc;

import dev.billing.config.ConfigException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks at the tokens file every {@code interval} and applies new contents, so tokens are added,
 * rotated and revoked without a restart ({@code billing_tokens_reloads_total} counts applied and
 * refused reloads).
 */
public final class TokenReloader implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TokenReloader.class);

  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("tokens-reload").unstarted(r));

  public TokenReloader(TokenStore tokens, Duration interval, MeterRegistry meters) {
    Counter applied = meters.counter("billing_tokens_reloads_total", "outcome", "applied");
    Counter refused = meters.counter("billing_tokens_reloads_total", "outcome", "refused");
    long millis = Math.max(10, interval.toMillis());
    timer.scheduleWithFixedDelay(
        () -> {
          try {
            if (tokens.reloadIfChanged()) {
              applied.increment();
            }
          } catch (ConfigException e) {
            refused.increment(); // TokenStore logged why
          } catch (RuntimeException e) {
            refused.increment();
            log.error("tokens reload failed: {}", e.getMessage());
          }
        },
        millis,
        millis,
        TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
