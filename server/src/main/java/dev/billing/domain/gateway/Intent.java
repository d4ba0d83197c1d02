package dev.billing.domain.gateway;

/**
 * A PaymentIntent or SetupIntent as created: its id, the client secret a front end confirms it with
 * (Stripe.js, or the local emulator's confirm page), and its status.
 */
public record Intent(String id, String clientSecret, String status) {}
