package dev.billing.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.dev.ChaosRun;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The small version of {@code make chaos}: the service as a real process on its own MariaDB, killed
 * with SIGKILL twice and its database restarted once mid-load, ends in the same state as a
 * crash-free run of the same deliveries and credit operations, nothing lost and nothing doubled.
 */
class ChaosTest {
  @Test
  void killsAndADatabaseRestartLoseNothingDoubleNothingAndChangeNoUser() throws Exception {
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    ChaosRun.Result result =
        ChaosRun.run(
            24,
            2,
            1,
            7,
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                classpath,
                "dev.billing.Main"),
            Path.of("target", "chaos-test"));
    System.out.println(result);
    assertThat(result.kills()).isEqualTo(2);
    assertThat(result.dbRestarts()).isEqualTo(1);
    assertThat(result.supervisorRestarts()).as("the server never exited by itself").isZero();
    assertThat(result.lost()).isZero();
    assertThat(result.doubled()).isZero();
    assertThat(result.differing()).isZero();
  }
}
