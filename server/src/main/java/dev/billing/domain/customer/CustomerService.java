package dev.billing.domain.customer;

import dev.billing.domain.gateway.StripeGateway;
import dev.billing.persistence.HeldWrites;
import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;

/**
 * The customers table: which Stripe customer belongs to which user. A mapping, once made, stays
 * (later claims of the same user or customer are ignored) unless checkout replaces a customer that
 * Stripe no longer has.
 */
public final class CustomerService {
  private final Transactions tx;
  private final StripeGateway stripe;

  public CustomerService(Transactions tx, StripeGateway stripe) {
    this.tx = tx;
    this.stripe = stripe;
  }

  /** The user's Stripe customer, created at Stripe (idempotently) and remembered if new. */
  public String getOrCreate(String userId) {
    String existing = customerOf(userId);
    if (existing != null) {
      return existing;
    }
    String created = stripe.createCustomer(userId, null, "customer:" + userId);
    return tx.execute(
        uow -> {
          remember(uow, userId, created);
          return customerOf(uow, userId);
        });
  }

  /** Replaces a customer Stripe no longer has with a new one; answers the user's customer now. */
  public String replaceMissing(String userId, String missing) {
    String created =
        stripe.createCustomer(userId, null, "customer:" + userId + ":replacing:" + missing);
    return tx.execute(
        uow -> {
          uow.store(CustomerStore.class).replace(userId, missing, created);
          return customerOf(uow, userId);
        });
  }

  /** Users this transaction knows to have a customer (a new mapping for them would be ignored). */
  private static final class Mapped extends HashSet<String> {}

  /**
   * Remembers that {@code customerId} is {@code userId}'s unless the user (or the customer) is
   * mapped already. No statement for a user this transaction already knows to be mapped; otherwise
   * the mapping is held back and written with the transaction's others in one batch, before any
   * other statement on customers (so a later read in the transaction sees it).
   */
  public void remember(UnitOfWork uow, String userId, String customerId) {
    if (userId == null || customerId == null) {
      return;
    }
    Mapped mapped = uow.attachment(Mapped.class, Mapped::new);
    if (mapped.add(userId)) {
      uow.attachment(HeldLinks.class, () -> new HeldLinks(uow))
          .writes
          .put(userId, new CustomerLink(userId, customerId));
    }
  }

  /** Mappings this transaction will write. */
  private static final class HeldLinks {
    final HeldWrites<CustomerLink> writes;

    HeldLinks(UnitOfWork uow) {
      writes = HeldWrites.rows(uow, CustomerStore.class, CustomerStore::insertLinkIfAbsent);
    }
  }

  /** Stored mappings this transaction has read, by Stripe customer. */
  private static final class Stored extends HashMap<String, String> {}

  /**
   * Tells this transaction that {@code userId} is mapped to {@code customerId}, as stored (read
   * with the user's lock): no statement is then needed to remember the user's mapping again, or to
   * find the customer's user.
   */
  public void known(UnitOfWork uow, String userId, String customerId) {
    uow.attachment(Mapped.class, Mapped::new).add(userId);
    uow.attachment(Stored.class, Stored::new).put(customerId, userId);
  }

  /** The user of a Stripe customer, or null. */
  public String userOf(UnitOfWork uow, String customerId) {
    if (customerId == null) {
      return null;
    }
    String user = uow.attachment(Stored.class, Stored::new).get(customerId);
    return user != null ? user : uow.store(CustomerStore.class).findUserByCustomer(customerId);
  }

  /** The user's Stripe customer inside a transaction, or null. */
  public String customerOf(UnitOfWork uow, String userId) {
    return uow.store(CustomerStore.class).findCustomerByUser(userId);
  }

  /** The users whose Stripe customer has this email (Stripe keeps the emails, not this service). */
  public List<String> usersByEmail(String email) {
    List<String> users = new java.util.ArrayList<>();
    for (String customer : stripe.customersByEmail(email)) {
      String user = userOf(customer);
      if (user != null && !users.contains(user)) {
        users.add(user);
      }
    }
    return users;
  }

  /** The user of a Stripe customer as committed now, or null. */
  public String userOf(String customerId) {
    return tx.read(s -> s.store(CustomerStore.class).findUserByCustomer(customerId));
  }

  /** The user's Stripe customer as committed now, or null. */
  public String customerOf(String userId) {
    return tx.read(s -> s.store(CustomerStore.class).findCustomerByUser(userId));
  }

  /** Users with a Stripe customer, by user id, after {@code afterUserId} ("" = from the first). */
  public List<CustomerLink> page(String afterUserId, int limit) {
    return tx.read(s -> s.store(CustomerStore.class).findPage(afterUserId, limit));
  }
}
