package dev.billing.domain.idempotency;

import dev.billing.error.BillingException;
import dev.billing.persistence.HeldWrites;
import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A key's first outcome is its outcome. For a mutating call that ran (a request rejected by
 * validation before it ran may be retried under the same key), the outcome is recorded in the
 * transaction that decided it, refusals included: a retry under the same key gets the same answer,
 * and the same key with another request is FAILED_PRECONDITION ({@code IDEMPOTENCY_KEY_REUSED}).
 */
public final class Idempotency {
  private Idempotency() {}

  /** A stable digest of what a request asks (its fields in a fixed order). */
  public static String fingerprint(Object... fields) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Object f : fields) {
        sha.update(String.valueOf(f).getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The recorded outcome of this key, checked against the request: null when the key is new; the
   * outcome when it is the same request (a refusal is thrown again, as first answered); {@code
   * IDEMPOTENCY_KEY_REUSED} when the key was used for another request.
   */
  public static RecordedOutcome replay(
      UnitOfWork uow, String operation, String owner, String key, String requestHash) {
    return check(uow.store(IdempotencyStore.class).find(operation, owner, key), requestHash);
  }

  /** {@link #replay}'s rule for an outcome already read (null: the key is new). */
  public static RecordedOutcome check(RecordedOutcome first, String requestHash) {
    if (first == null) {
      return null;
    }
    if (!first.requestHash().equals(requestHash)) {
      throw reused();
    }
    if (first.refused()) {
      throw new BillingException.FailedPrecondition(first.code(), first.message());
    }
    return first;
  }

  /**
   * The recorded outcomes of these keys of {@code operation}, by owner and key, read with one
   * statement recorded in {@code reads} (what a group checks with {@link #check}); there once it
   * has been sent.
   */
  public static Supplier<Map<OwnedKey, RecordedOutcome>> prefetch(
      ReadBatch reads, String operation, List<OwnedKey> keys) {
    Supplier<List<RecordedOutcome>> found =
        reads.rows(IdempotencyStore.class, s -> s.findAll(operation, keys));
    return () -> {
      Map<OwnedKey, RecordedOutcome> byKey = new HashMap<>();
      for (RecordedOutcome o : found.get()) {
        byKey.put(new OwnedKey(o.owner(), o.idemKey()), o);
      }
      return byKey;
    };
  }

  /**
   * For a mutation that sends its writes and its COMMIT in one packet, without reading first: the
   * commit fails with a duplicate key, writing nothing, if {@code key} has an outcome recorded (the
   * caller then decides the mutation again the usual way, reading the outcome with {@link
   * #prefetch}).
   */
  public static void requireUnrecorded(UnitOfWork uow, String operation, String owner, String key) {
    HeldWrites.<IdempotencyStore, OwnedKey>rows(
            uow,
            IdempotencyStore.class,
            (s, k) -> {
              s.claim(operation, k.owner(), k.key());
              s.releaseClaim(operation, k.owner(), k.key());
            })
        .put(owner + '\u0000' + key, new OwnedKey(owner, key));
  }

  /** Records a refusal decided in this transaction; the caller commits, then throws it. */
  public static RecordedOutcome recordRefusal(
      UnitOfWork uow,
      String operation,
      String owner,
      String key,
      String requestHash,
      BillingException.FailedPrecondition refusal) {
    String message = refusal.getMessage();
    RecordedOutcome outcome =
        new RecordedOutcome(
            operation,
            owner,
            key,
            requestHash,
            refusal.reason(),
            message == null || message.length() <= 1000 ? message : message.substring(0, 1000),
            null);
    uow.store(IdempotencyStore.class).insertIfAbsent(outcome);
    return outcome;
  }

  /** Records a success and what it answered. */
  public static void recordSuccess(
      UnitOfWork uow,
      String operation,
      String owner,
      String key,
      String requestHash,
      String result) {
    uow.store(IdempotencyStore.class)
        .insertIfAbsent(
            new RecordedOutcome(operation, owner, key, requestHash, null, null, result));
  }

  /**
   * Runs {@code work} in one transaction as a keyed mutation: a refusal it throws (other than a
   * reused key) is recorded as the key's outcome and committed with whatever {@code work} did
   * before refusing (nothing that changes money: refusals are decided first), then thrown. {@code
   * work} itself answers a key seen before ({@link #replay}).
   */
  public static <T> T refusalsRecorded(
      Transactions tx,
      String operation,
      String owner,
      String key,
      String requestHash,
      Transactions.Work<T> work) {
    BillingException.FailedPrecondition[] refused = new BillingException.FailedPrecondition[1];
    T result =
        tx.execute(
            uow -> {
              refused[0] = null;
              try {
                return work.run(uow);
              } catch (BillingException.FailedPrecondition e) {
                if (e.reason().equals("IDEMPOTENCY_KEY_REUSED")) {
                  throw e;
                }
                // A refusal answered again from the record is not recorded twice (insert if
                // absent).
                recordRefusal(uow, operation, owner, key, requestHash, e);
                refused[0] = e;
                return null;
              }
            });
    if (refused[0] != null) {
      throw refused[0];
    }
    return result;
  }

  /** A call that decides its outcome outside a transaction (it asks Stripe). */
  @FunctionalInterface
  public interface Call {
    /** Runs it; a {@link BillingException.FailedPrecondition} is a refusal. Returns an id. */
    String run();
  }

  /** What is written with a call's success, in the transaction that records it. */
  @FunctionalInterface
  public interface OnSuccess {
    void record(UnitOfWork uow, String result);
  }

  /**
   * Runs {@code call} once per key: a key seen before answers its first outcome (its result, or its
   * refusal thrown again) without running anything; a new key runs, and its success (with {@code
   * onSuccess}) or refusal is recorded. Errors that are not refusals (bad input, a dependency down)
   * record nothing, so the same key may be retried. Concurrent first calls under one key both run;
   * the external call must itself be idempotent under a key derived from this one (Stripe's
   * idempotency keys are), and the first record wins.
   */
  public static String once(
      Transactions tx,
      String operation,
      String owner,
      String key,
      String requestHash,
      Call call,
      OnSuccess onSuccess) {
    RecordedOutcome first = tx.execute(uow -> replay(uow, operation, owner, key, requestHash));
    if (first != null) {
      return first.result();
    }
    String result;
    try {
      result = call.run();
    } catch (BillingException.FailedPrecondition refusal) {
      tx.execute(
          uow -> {
            recordRefusal(uow, operation, owner, key, requestHash, refusal);
            return null;
          });
      throw refusal;
    }
    tx.execute(
        uow -> {
          onSuccess.record(uow, result);
          recordSuccess(uow, operation, owner, key, requestHash, result);
          return null;
        });
    return result;
  }

  public static BillingException.FailedPrecondition reused() {
    return new BillingException.FailedPrecondition(
        "IDEMPOTENCY_KEY_REUSED", "idempotency_key was already used for a different request");
  }
}
