package dev.billing.config;

/** A configuration value is missing or malformed; the message tells the operator how to fix it. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
