package dev.billing;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import dev.billing.proto.v1.BillingProto;
import io.grpc.health.v1.HealthProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's commands work when pasted: every shell block parses ({@code bash -n}); every grpcurl
 * and buf curl call names a method the service has, with a request body that is valid JSON for that
 * method's request message (so a renamed field or method fails here); every {@code make} target it
 * names exists; and no block keeps a header in a variable that would split into words.
 */
class ReadmeCommandsTest {
  private static final Path README = Path.of("..", "README.md");
  private static final Pattern BLOCK = Pattern.compile("```bash\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern METHOD =
      Pattern.compile("(billing\\.v1\\.BillingService|grpc\\.health\\.v1\\.Health)/(\\w+)");
  private static final Pattern BODY = Pattern.compile("-d '([^']*)'");
  private static final Pattern MAKE = Pattern.compile("(?m)^\\s*(?:[A-Z_]+=\\S+ )*make ([a-z-]+)");

  private static List<String> blocks() throws IOException {
    String readme = Files.readString(README);
    List<String> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(readme);
    while (m.find()) {
      blocks.add(m.group(1));
    }
    return blocks;
  }

  /** The block's commands, continuation lines joined. */
  private static List<String> commands(String block) {
    return List.of(block.replace("\\\n", " ").split("\n"));
  }

  @Test
  void everyShellBlockParses() throws Exception {
    List<String> blocks = blocks();
    assertThat(blocks).hasSizeGreaterThan(5);
    for (String block : blocks) {
      Process bash = new ProcessBuilder("bash", "-n").redirectErrorStream(true).start();
      bash.getOutputStream().write(block.getBytes());
      bash.getOutputStream().close();
      assertThat(bash.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(bash.exitValue())
          .as("bash -n of\n%s\n%s", block, new String(bash.getInputStream().readAllBytes()))
          .isZero();
      // A header in a string variable ($BUF -H 'a b') splits into words when expanded.
      assertThat(block).doesNotContainPattern("=\"[^\"]*-H '[^']* [^']*'");
    }
  }

  @Test
  void everyRpcCallNamesAMethodWithAValidRequestBody() throws Exception {
    int checked = 0;
    for (String block : blocks()) {
      for (String command : commands(block)) {
        if (!command.contains("grpcurl")
            && !command.contains("bufc")
            && !command.contains("buf curl")) {
          continue;
        }
        Matcher method = METHOD.matcher(command);
        if (!method.find()) {
          continue; // --list-methods and the like
        }
        MethodDescriptor descriptor =
            (method.group(1).startsWith("billing")
                    ? BillingProto.getDescriptor().findServiceByName("BillingService")
                    : HealthProto.getDescriptor().findServiceByName("Health"))
                .findMethodByName(method.group(2));
        assertThat(descriptor).as("method in: %s", command).isNotNull();
        Matcher body = BODY.matcher(command);
        if (body.find()) {
          String json = body.group(1).replace("…", "x");
          DynamicMessage.Builder request = DynamicMessage.newBuilder(descriptor.getInputType());
          JsonFormat.parser().merge(json, request); // throws on an unknown field or a bad value
        }
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(20);
  }

  @Test
  void everyMakeTargetItNamesExists() throws Exception {
    String makefile = Files.readString(Path.of("..", "Makefile"));
    for (String block : blocks()) {
      Matcher m = MAKE.matcher(block);
      while (m.find()) {
        assertThat(makefile).as("make %s", m.group(1)).containsPattern("(?m)^" + m.group(1) + ":");
      }
    }
  }
}
