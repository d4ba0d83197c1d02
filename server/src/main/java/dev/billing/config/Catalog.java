package dev.billing.config;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Plans and credit packages. The server maps plan to price and price to tier from here; a caller
 * never supplies a price or a tier.
 */
public final class Catalog {
  public static final String FREE = "free";

  private final Map<String, Plan> plansByName;
  private final Map<String, Plan> plansByPrice;
  private final Map<String, CreditPackage> packages;
  private final Plan free;
  private final Map<String, Metric> metrics;

  public Catalog(List<Plan> plans, List<CreditPackage> creditPackages) {
    Map<String, Plan> byName = new LinkedHashMap<>();
    Map<String, Plan> byPrice = new HashMap<>();
    plans.stream()
        .sorted(Comparator.comparingInt(Plan::rank))
        .forEach(
            p -> {
              if (byName.put(p.name(), p) != null) {
                throw new ConfigException("catalog: duplicate plan " + p.name());
              }
              if (p.priceId() != null && byPrice.put(p.priceId(), p) != null) {
                throw new ConfigException("catalog: price " + p.priceId() + " used twice");
              }
            });
    this.free = byName.get(FREE);
    if (free == null || !free.isFree()) {
      throw new ConfigException("catalog: a plan named 'free' without a price is required");
    }
    Map<String, CreditPackage> pkgs = new LinkedHashMap<>();
    for (CreditPackage p : creditPackages) {
      if (pkgs.put(p.id(), p) != null) {
        throw new ConfigException("catalog: duplicate credit package " + p.id());
      }
    }
    this.plansByName = byName;
    this.plansByPrice = byPrice;
    this.packages = pkgs;
    Map<String, Metric> allMetrics = new java.util.TreeMap<>();
    byName.values().forEach(p -> p.metrics().forEach(allMetrics::putIfAbsent));
    this.metrics = java.util.Collections.unmodifiableMap(allMetrics);
  }

  /**
   * The catalog this environment names: the file {@code BILLING_CATALOG}, else the defaults with
   * the {@code STRIPE_PRICE_PRO} / {@code STRIPE_PRICE_STUDIO} price ids.
   */
  public static Catalog fromEnv(Env env) {
    return env.get("BILLING_CATALOG")
        .map(p -> fromFile(Path.of(p)))
        .orElseGet(
            () ->
                defaults(
                    env.get("STRIPE_PRICE_PRO", "price_pro"),
                    env.get("STRIPE_PRICE_STUDIO", "price_studio")));
  }

  /** What the default catalog's allowance counts: calls to the product's API, per month. */
  public static final String DEFAULT_METRIC = "api_calls";

  /** The name existing readers know the default allowance by (kept in {@code limits}). */
  public static final String LEGACY_LIMIT = "monthly_limit";

  /** The product brief's catalog, with the Stripe price ids from the environment. */
  public static Catalog defaults(String proPriceId, String studioPriceId) {
    return new Catalog(
        List.of(
            new Plan(FREE, null, 0, List.of(), Map.of(), Map.of(), 0, "usd", "month"),
            new Plan(
                "pro",
                proPriceId,
                1,
                List.of("priority_support", "advanced_analytics"),
                Map.of(DEFAULT_METRIC, 100L, LEGACY_LIMIT, 100L),
                Map.of(DEFAULT_METRIC, Metric.perPeriod(DEFAULT_METRIC, 100)),
                1900,
                "usd",
                "month"),
            new Plan(
                "studio",
                studioPriceId,
                2,
                List.of("priority_support", "advanced_analytics", "api_access", "white_label"),
                Map.of(DEFAULT_METRIC, 500L, LEGACY_LIMIT, 500L),
                Map.of(DEFAULT_METRIC, Metric.perPeriod(DEFAULT_METRIC, 500)),
                4900,
                "usd",
                "month")),
        List.of(
            new CreditPackage("credits_500", 500, 500, "usd"),
            new CreditPackage("credits_1000", 1000, 1000, "usd"),
            new CreditPackage("credits_5000", 5000, 5000, "usd")));
  }

  private static final Set<String> ROOT_KEYS = Set.of("plans", "credit_packages");
  private static final Set<String> PLAN_KEYS =
      Set.of("name", "price_id", "rank", "features", "limits", "amount", "currency", "interval");
  private static final Set<String> LIMIT_KEYS =
      Set.of(
          "limit",
          "reset",
          "overage_credits",
          "meter_event_name",
          "meter_unit_amount",
          "legacy_name");
  private static final Set<String> PACKAGE_KEYS = Set.of("id", "credits", "amount", "currency");

  /** Refuses a key the catalog format does not have, naming it (a typo is not silently ignored). */
  private static void onlyKnownKeys(JsonObject o, Set<String> known, String where) {
    for (String key : o.keySet()) {
      if (!known.contains(key)) {
        throw new ConfigException(
            "unknown key '" + key + "' in " + where + " (known: " + new TreeSet<>(known) + ")");
      }
    }
  }

  /**
   * A plan's {@code limits}: a number is a per-period allowance; an object is {@code {"limit": 10,
   * "reset": "period"|"never", "overage_credits": 2, "meter_event_name": "...", "legacy_name":
   * "monthly_limit"}}.
   */
  private static void readLimits(
      JsonObject limits, String plan, Map<String, Long> numbers, Map<String, Metric> metrics) {
    for (var entry : limits.entrySet()) {
      String name = entry.getKey();
      JsonElement v = entry.getValue();
      Metric m;
      String legacy = null;
      if (v.isJsonPrimitive()) {
        m = Metric.perPeriod(name, v.getAsLong());
      } else {
        JsonObject o = v.getAsJsonObject();
        String where = "plan " + plan + " limit " + name;
        onlyKnownKeys(o, LIMIT_KEYS, where);
        if (!o.has("limit")) {
          throw new ConfigException(where + " needs a \"limit\"");
        }
        String reset = o.has("reset") ? o.get("reset").getAsString() : "period";
        if (!reset.equals("period") && !reset.equals("never")) {
          throw new ConfigException(where + ": reset must be \"period\" or \"never\"");
        }
        m =
            new Metric(
                name,
                o.get("limit").getAsLong(),
                reset.equals("never") ? Metric.Reset.NEVER : Metric.Reset.PERIOD,
                o.has("overage_credits") ? o.get("overage_credits").getAsLong() : null,
                o.has("meter_event_name") ? o.get("meter_event_name").getAsString() : null,
                o.has("meter_unit_amount") ? o.get("meter_unit_amount").getAsLong() : null);
        legacy = o.has("legacy_name") ? o.get("legacy_name").getAsString() : null;
      }
      metrics.put(name, m);
      numbers.put(name, m.limit());
      if (legacy != null) {
        numbers.put(legacy, m.limit());
      }
    }
  }

  /**
   * Reads a catalog file: {@code {"plans":[{"name","price_id","rank","features":[],"limits":{},
   * "amount","currency","interval"}], "credit_packages":[{"id","credits","amount","currency"}]}}.
   * An unknown key anywhere is refused with its name.
   */
  public static Catalog fromFile(Path file) {
    try {
      JsonObject root = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
      onlyKnownKeys(root, ROOT_KEYS, "the catalog");
      List<Plan> plans = new ArrayList<>();
      for (JsonElement e : root.getAsJsonArray("plans")) {
        JsonObject p = e.getAsJsonObject();
        String planName = p.has("name") ? p.get("name").getAsString() : "?";
        onlyKnownKeys(p, PLAN_KEYS, "plan " + planName);
        List<String> features = new ArrayList<>();
        if (p.has("features")) {
          p.getAsJsonArray("features").forEach(f -> features.add(f.getAsString()));
        }
        Map<String, Long> limits = new HashMap<>();
        Map<String, Metric> metrics = new HashMap<>();
        if (p.has("limits")) {
          readLimits(p.getAsJsonObject("limits"), planName, limits, metrics);
        }
        plans.add(
            new Plan(
                p.get("name").getAsString(),
                p.has("price_id") && !p.get("price_id").isJsonNull()
                    ? p.get("price_id").getAsString()
                    : null,
                p.get("rank").getAsInt(),
                features,
                limits,
                metrics,
                p.has("amount") ? p.get("amount").getAsLong() : 0,
                p.has("currency") ? p.get("currency").getAsString() : "usd",
                p.has("interval") ? p.get("interval").getAsString() : "month"));
      }
      List<CreditPackage> pkgs = new ArrayList<>();
      if (root.has("credit_packages")) {
        for (JsonElement e : root.getAsJsonArray("credit_packages")) {
          JsonObject c = e.getAsJsonObject();
          onlyKnownKeys(
              c, PACKAGE_KEYS, "credit package " + (c.has("id") ? c.get("id").getAsString() : "?"));
          pkgs.add(
              new CreditPackage(
                  c.get("id").getAsString(),
                  c.get("credits").getAsLong(),
                  c.get("amount").getAsLong(),
                  c.has("currency") ? c.get("currency").getAsString() : "usd"));
        }
      }
      return new Catalog(plans, pkgs);
    } catch (IOException | RuntimeException e) {
      if (e instanceof ConfigException ce) {
        throw ce;
      }
      throw new ConfigException(
          "BILLING_CATALOG " + file + " is not a valid catalog: " + e.getMessage());
    }
  }

  public Plan free() {
    return free;
  }

  public Optional<Plan> plan(String name) {
    return Optional.ofNullable(plansByName.get(name));
  }

  /** The plan a Stripe price belongs to; empty for a price the catalog does not know. */
  public Optional<Plan> planForPrice(String priceId) {
    return priceId == null ? Optional.empty() : Optional.ofNullable(plansByPrice.get(priceId));
  }

  /** The plan for a stored plan name, falling back to free for a name the catalog no longer has. */
  public Plan planOrFree(String name) {
    return plansByName.getOrDefault(name, free);
  }

  public List<Plan> plans() {
    return List.copyOf(plansByName.values());
  }

  public Optional<CreditPackage> creditPackage(String id) {
    return Optional.ofNullable(packages.get(id));
  }

  public List<CreditPackage> creditPackages() {
    return List.copyOf(packages.values());
  }

  /** Every metric some plan meters, by name, as the first plan that meters it defines it. */
  public Map<String, Metric> metrics() {
    return metrics;
  }

  /** Custom credit purchases: at most $10,000.00 at once. */
  public static final long MAX_CUSTOM_CREDITS_MINOR = 1_000_000;

  /** Custom credit purchases are sold in this currency (1 credit = 1 minor unit). */
  public static final String CREDITS_CURRENCY = "usd";

  /** The currencies the catalog sells in (lowercase ISO codes): its plans', packages' and usd. */
  public Set<String> currencies() {
    Set<String> all = new TreeSet<>();
    all.add(CREDITS_CURRENCY);
    plansByName.values().stream()
        .filter(p -> !p.isFree())
        .forEach(p -> all.add(p.currency().toLowerCase(java.util.Locale.ROOT)));
    packages.values().forEach(p -> all.add(p.currency().toLowerCase(java.util.Locale.ROOT)));
    return all;
  }

  /**
   * The most one payment from Stripe may carry: a custom credit purchase's maximum, the largest
   * package, or a hundred periods of the dearest plan (an invoice with prorations, quantities or
   * arrears). Anything larger is not a payment this catalog can have asked for.
   */
  public long maxPaymentMinor() {
    long max = MAX_CUSTOM_CREDITS_MINOR;
    for (Plan p : plansByName.values()) {
      max = Math.max(max, Math.multiplyExact(p.amountMinor(), 100L));
    }
    for (CreditPackage p : packages.values()) {
      max = Math.max(max, p.amountMinor());
    }
    return max;
  }
}
