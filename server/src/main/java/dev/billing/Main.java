package dev.billing;

import dev.billing.config.BillingConfig;
import dev.billing.config.ConfigException;
import dev.billing.config.Env;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/** {@code java -jar billing-server.jar}: configuration from the environment (and ./.env). */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws Exception {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    BillingConfig config;
    try {
      config = BillingConfig.fromEnv(Env.load());
    } catch (ConfigException e) {
      System.err.println("billing-server: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    BillingServer server;
    try {
      server = BillingServer.start(config);
    } catch (ConfigException e) {
      System.err.println("billing-server: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    } catch (Exception e) {
      log.error("billing-server failed to start: {}", e.getMessage(), e);
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("shutting down (signal received)");
                  server.close();
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
  }
}
