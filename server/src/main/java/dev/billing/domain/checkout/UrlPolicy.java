package dev.billing.domain.checkout;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * Return URLs must stay on our own front ends: scheme, host and port must match an allowed origin
 * (FRONTEND_URL). This stops a caller from turning Checkout into an open redirect.
 */
public final class UrlPolicy {
  private final List<URI> origins;

  public UrlPolicy(List<URI> origins) {
    this.origins = List.copyOf(origins);
  }

  public URI defaultOrigin() {
    return origins.getFirst();
  }

  public boolean isAllowed(String url) {
    if (url == null || url.isEmpty() || url.length() > 2048) {
      return false;
    }
    try {
      // Stripe's template placeholder is not valid URI syntax; it is substituted by Stripe.
      URI u = new URI(url.replace("{CHECKOUT_SESSION_ID}", "cs_placeholder"));
      if (u.getScheme() == null || u.getHost() == null || u.getRawUserInfo() != null) {
        return false;
      }
      for (URI o : origins) {
        if (o.getScheme().equalsIgnoreCase(u.getScheme())
            && o.getHost().toLowerCase(Locale.ROOT).equals(u.getHost().toLowerCase(Locale.ROOT))
            && port(o) == port(u)) {
          return true;
        }
      }
      return false;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static int port(URI u) {
    if (u.getPort() != -1) {
      return u.getPort();
    }
    return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }
}
