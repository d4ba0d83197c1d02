package dev.billing.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Configuration source: the process environment over an optional {@code .env} file in the working
 * directory. The environment wins, so a deployment can always override a checked-in file.
 */
public final class Env {
  private final Map<String, String> values;

  private Env(Map<String, String> values) {
    this.values = Map.copyOf(values);
  }

  /** The process environment over {@code ./.env}, if that file exists. */
  public static Env load() {
    return load(Path.of(".env"), System.getenv());
  }

  static Env load(Path dotEnv, Map<String, String> environment) {
    Map<String, String> merged = new HashMap<>();
    if (Files.isRegularFile(dotEnv)) {
      merged.putAll(parseDotEnv(dotEnv));
    }
    merged.putAll(environment);
    return new Env(merged);
  }

  /** An explicit set of values, for tests and the local launcher. */
  public static Env of(Map<String, String> values) {
    return new Env(values);
  }

  /** This environment with some values replaced. */
  public Env with(Map<String, String> overrides) {
    Map<String, String> merged = new HashMap<>(values);
    merged.putAll(overrides);
    return new Env(merged);
  }

  static Map<String, String> parseDotEnv(Path file) {
    Map<String, String> out = new HashMap<>();
    try {
      for (String raw : Files.readAllLines(file)) {
        String line = raw.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        if (line.startsWith("export ")) {
          line = line.substring("export ".length()).strip();
        }
        int eq = line.indexOf('=');
        if (eq <= 0) {
          continue;
        }
        String key = line.substring(0, eq).strip();
        String value = line.substring(eq + 1).strip();
        if (value.length() >= 2
            && ((value.startsWith("\"") && value.endsWith("\""))
                || (value.startsWith("'") && value.endsWith("'")))) {
          value = value.substring(1, value.length() - 1);
        }
        out.put(key, value);
      }
    } catch (IOException e) {
      throw new ConfigException("cannot read " + file + ": " + e.getMessage());
    }
    return out;
  }

  /** All values, for handing this configuration to a child process. */
  public Map<String, String> asMap() {
    return values;
  }

  public Optional<String> get(String name) {
    String v = values.get(name);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
  }

  public String get(String name, String defaultValue) {
    return get(name).orElse(defaultValue);
  }

  public int getInt(String name, int defaultValue) {
    return get(name).map(v -> parseInt(name, v)).orElse(defaultValue);
  }

  public long getLong(String name, long defaultValue) {
    return get(name).map(v -> parseLong(name, v)).orElse(defaultValue);
  }

  public boolean getBoolean(String name, boolean defaultValue) {
    return get(name)
        .map(
            v ->
                switch (v.toLowerCase()) {
                  case "true", "1", "yes", "on" -> true;
                  case "false", "0", "no", "off" -> false;
                  default -> throw new ConfigException(name + " must be true or false, got: " + v);
                })
        .orElse(defaultValue);
  }

  /**
   * A duration written as ISO-8601 ({@code PT5S}) or a number with a unit: 250ms, 5s, 3m, 2h, 3d.
   */
  public Duration getDuration(String name, Duration defaultValue) {
    return get(name).map(v -> parseDuration(name, v)).orElse(defaultValue);
  }

  /**
   * Parses {@code 50ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 3d} or ISO-8601 ({@code PT5S}).
   */
  public static Duration parseDuration(String name, String v) {
    try {
      if (v.startsWith("P") || v.startsWith("p")) {
        return Duration.parse(v);
      }
      String lower = v.toLowerCase();
      if (lower.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(lower.substring(0, lower.length() - 2).strip()));
      }
      long n = Long.parseLong(lower.substring(0, lower.length() - 1).strip());
      return switch (lower.charAt(lower.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        case 'd' -> Duration.ofDays(n);
        default -> throw new NumberFormatException();
      };
    } catch (RuntimeException e) {
      throw new ConfigException(
          name + " must be a duration such as 250ms, 5s, 3m, 2h, 3d or PT5S, got: " + v);
    }
  }

  private static int parseInt(String name, String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " must be an integer, got: " + v);
    }
  }

  private static long parseLong(String name, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " must be an integer, got: " + v);
    }
  }
}
