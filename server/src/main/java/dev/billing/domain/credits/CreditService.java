package dev.billing.domain.credits;

import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.domain.idempotency.Idempotency;
import dev.billing.domain.idempotency.OwnedKey;
import dev.billing.domain.idempotency.RecordedOutcome;
import dev.billing.error.BillingException;
import dev.billing.persistence.HeldWrites;
import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credit ledger. Every mutation is one transaction that appends a ledger row and updates the
 * balance row, keyed by an idempotency key unique per user: a replay returns the first result. The
 * balance never goes below zero.
 */
public final class CreditService {
  private static final Logger log = LoggerFactory.getLogger(CreditService.class);

  /** Largest single mutation: 100 million credits ($1M). Larger is a typo, not a grant. */
  public static final long MAX_AMOUNT = 100_000_000L;

  private final Transactions tx;
  private final EntitlementService entitlements;
  private final AuditLog audit;

  public CreditService(Transactions tx, EntitlementService entitlements, AuditLog audit) {
    this.tx = tx;
    this.entitlements = entitlements;
    this.audit = audit;
  }

  /** Adds {@code amount} credits to a user. */
  public CreditResult grant(
      String userId, long amount, String idempotencyKey, String reason, Cause cause) {
    return keyed(userId, amount, "grant", idempotencyKey, reason, cause);
  }

  /**
   * Takes {@code amount} credits; FAILED_PRECONDITION (INSUFFICIENT_CREDITS) if the balance is
   * lower. The refusal is the key's outcome: a retry under the same key is refused again, even once
   * the balance would allow it.
   */
  public CreditResult consume(
      String userId, long amount, String idempotencyKey, String reason, Cause cause) {
    return keyed(userId, -amount, "consume", idempotencyKey, reason, cause);
  }

  /**
   * Runs about {@code mutations} grants and consumptions of new users, half of them in one packet
   * and half reading first, each rehearsed (its transaction rolled back after its commit's
   * statements: nothing stored or published), stopping once {@code budget} has passed; returns (and
   * logs) how many ran. A caller's mutation is one call per change, so without this the JIT
   * compiles its path during the first thousands of real calls, on the cores that answer them.
   */
  public int warmUp(int mutations, Duration budget) {
    long started = System.nanoTime();
    long deadline = started + budget.toNanos();
    String run = UUID.randomUUID().toString().substring(0, 8);
    Cause cause = Cause.api("warm-up");
    int done = 0;
    while (done < mutations && System.nanoTime() < deadline) {
      String user = "warm-up-" + run + "-" + done;
      long delta = done % 4 == 3 ? -1 : 1 + done % 7; // every fourth a consumption
      String key = "warm-up-" + done;
      Mutation m = Mutation.keyed(user, delta, delta < 0 ? "consume" : "grant", key, null, cause);
      boolean onePacket = done % 2 == 0; // both ways a caller's mutation goes
      try {
        tx.rehearse(
            uow -> onePacket ? assumedMutation(uow, m, Optional.empty()) : mutate(uow, m, true));
      } catch (BillingException.FailedPrecondition refused) {
        // A new user's balance is 0, so the consumption is refused: its check is warmed too.
      } catch (RuntimeException e) { // the database went away: start without the rest
        log.warn("credit warm-up stopped after {} mutations: {}", done, e.getMessage());
        break;
      }
      done++;
    }
    log.info(
        "credit warm-up: {} rehearsed mutations in {} ms",
        done,
        (System.nanoTime() - started) / 1_000_000);
    return done;
  }

  /** What the idempotency record calls a caller's credit mutation. */
  static final String OPERATION = "credits";

  /**
   * A caller's mutation under its idempotency key: a refusal is recorded and committed as the key's
   * outcome, then thrown.
   */
  private CreditResult keyed(
      String userId, long delta, String kind, String key, String reason, Cause cause) {
    Mutation m = Mutation.keyed(userId, delta, kind, key, reason, cause);
    CreditResult sent = inOnePacket(m);
    if (sent != null) {
      return sent;
    }
    return Idempotency.refusalsRecorded(
        tx,
        OPERATION,
        userId,
        key,
        Idempotency.fingerprint(kind, delta),
        uow -> mutate(uow, m, true));
  }

  /**
   * A signed credit change of one user under {@code key}: {@code requested} itself, or with {@code
   * upToBalance} (a refund) as much of a negative one as the balance holds.
   */
  private record Mutation(
      String userId,
      long requested,
      boolean upToBalance,
      String kind,
      String key,
      String reason,
      String paymentId,
      Cause cause) {
    /** A caller's grant or consumption. */
    static Mutation keyed(
        String userId, long delta, String kind, String key, String reason, Cause cause) {
      return new Mutation(userId, delta, false, kind, key, reason, null, cause);
    }
  }

  private final LongAdder onePacket = new LongAdder();
  private final LongAdder readFirst = new LongAdder();

  /**
   * How callers' mutations went: in one packet, or reading first (after a failed attempt in one
   * packet, or for a user with usage counters).
   */
  public record Packets(long onePacket, long readFirst) {}

  public Packets packets() {
    return new Packets(onePacket.sum(), readFirst.sum());
  }

  /**
   * A caller's mutation in one round trip: the user's row assumed as this replica last wrote it
   * (absent for a user it does not remember), the key assumed unused, the ledger row, balance,
   * change and audit row computed from that and sent with the COMMIT, each assumption checked by
   * the statements as they lock (a duplicate key stops the packet, which writes nothing). Null,
   * having written nothing, when an assumption was wrong or the mutation would be refused on the
   * assumed balance: the caller then runs it the usual way, reading under the lock (two round
   * trips), which also answers replays and records refusals.
   */
  private CreditResult inOnePacket(Mutation m) {
    Optional<EntitlementRow> assumed =
        m.requested() == 0 ? null : entitlements.assumable(m.userId());
    if (assumed == null) {
      readFirst.increment();
      return null;
    }
    try {
      CreditResult result = tx.execute(uow -> assumedMutation(uow, m, assumed));
      onePacket.increment();
      return result;
    } catch (BillingException.FailedPrecondition refused) {
      // Refused on the assumed balance: decided again under the lock, and recorded there.
    } catch (RuntimeException e) {
      if (!Transactions.isDuplicateKey(e)) {
        throw e;
      }
    }
    readFirst.increment();
    return null;
  }

  private CreditResult assumedMutation(
      UnitOfWork uow, Mutation m, Optional<EntitlementRow> assumed) {
    entitlements.assume(uow, m.userId(), assumed); // first: its write locks the row, like lockAll
    Idempotency.requireUnrecorded(uow, OPERATION, m.userId(), m.key());
    return decide(uow, m, null);
  }

  /** A user's ledger, newest first, rows with id below {@code beforeId}. */
  public List<LedgerEntry> transactions(String userId, long beforeId, int limit) {
    return tx.read(s -> s.store(CreditStore.class).findByUser(userId, beforeId, limit));
  }

  /**
   * Applies a signed credit change inside the caller's transaction. The user's entitlement row is
   * locked first, so concurrent mutations of one user serialise and a replayed key is always seen.
   */
  public CreditResult apply(
      UnitOfWork uow,
      String userId,
      long delta,
      String kind,
      String idempotencyKey,
      String reason,
      String paymentId,
      Cause cause) {
    return mutate(
        uow,
        new Mutation(userId, delta, false, kind, idempotencyKey, reason, paymentId, cause),
        false);
  }

  /**
   * Takes back up to {@code credits} (a refund): as many as the balance holds, never below zero.
   * The ledger row records what was actually taken.
   */
  public CreditResult clawBack(
      UnitOfWork uow,
      String userId,
      long credits,
      String idempotencyKey,
      String reason,
      String paymentId,
      Cause cause) {
    return mutate(
        uow,
        new Mutation(userId, -credits, true, "refund", idempotencyKey, reason, paymentId, cause),
        false);
  }

  /** Keys of held ledger rows start here, so they all have ten digits. */
  private static final long LEDGER_ORDER = 1_000_000_000L;

  /** A balance row as written. */
  private record Balance(String userId, long balance) {}

  /**
   * The credit rows this transaction has written but not sent: the latest balance per user, and the
   * ledger rows in the order appended.
   */
  private static final class HeldCredits {
    final HeldWrites<Balance> balances;
    final HeldWrites<LedgerEntry> ledger;
    int appended;

    HeldCredits(UnitOfWork uow) {
      balances =
          HeldWrites.rows(
              uow, CreditStore.class, (s, b) -> s.upsertBalance(b.userId(), b.balance()));
      ledger = HeldWrites.rows(uow, CreditStore.class, CreditStore::insertLedger);
    }
  }

  private CreditResult mutate(UnitOfWork uow, Mutation m, boolean refusalsRecorded) {
    String userId = m.userId();
    String idempotencyKey = m.key();
    // One round trip: the user's lock (with the row, its balance and usage counters), the key's
    // ledger row and its recorded refusal.
    ReadBatch reads = uow.reads();
    Runnable lockedAll = entitlements.lockAll(uow, reads, List.of(userId));
    Supplier<List<LedgerEntry>> previousRows =
        reads.rows(CreditStore.class, s -> s.findByKey(userId, idempotencyKey));
    OwnedKey key = new OwnedKey(userId, idempotencyKey);
    Supplier<Map<OwnedKey, RecordedOutcome>> outcomes =
        refusalsRecorded ? Idempotency.prefetch(reads, OPERATION, List.of(key)) : Map::of;
    reads.send();
    lockedAll.run();
    LedgerEntry previous = previousRows.get().isEmpty() ? null : previousRows.get().getFirst();
    if (previous == null && refusalsRecorded) {
      // A refused key stays refused (thrown again here), however the balance has changed.
      Idempotency.check(outcomes.get().get(key), Idempotency.fingerprint(m.kind(), m.requested()));
    }
    return decide(uow, m, previous);
  }

  /**
   * The mutation of a user whose row this transaction holds ({@code previous}: the key's ledger
   * row, if it was used before): its rows held to go with the COMMIT.
   */
  private CreditResult decide(UnitOfWork uow, Mutation m, LedgerEntry previous) {
    String userId = m.userId();
    long requested = m.requested();
    boolean upToBalance = m.upToBalance();
    String kind = m.kind();
    String idempotencyKey = m.key();
    String reason = m.reason();
    String paymentId = m.paymentId();
    Cause cause = m.cause();
    EntitlementRow locked = entitlements.lock(uow, userId); // held now: no statement
    if (previous != null) {
      if (!previous.kind().equals(kind) || (!upToBalance && previous.delta() != requested)) {
        throw new BillingException.FailedPrecondition(
            "IDEMPOTENCY_KEY_REUSED",
            "idempotency_key was already used for a different request ("
                + previous.kind()
                + " of "
                + Math.abs(previous.delta())
                + ")");
      }
      return new CreditResult(previous.balanceAfter(), previous.transactionId(), true);
    }
    // The balance as this transaction stands: read and locked with the user's row, and kept
    // current there by creditsChanged (only this package writes credit_balances).
    long before = locked.creditBalance();
    long delta = upToBalance ? -Math.min(before, -requested) : requested;
    long after;
    try {
      after = Math.addExact(before, delta);
    } catch (ArithmeticException e) {
      throw new BillingException.FailedPrecondition(
          "BALANCE_OVERFLOW", "the balance would overflow");
    }
    if (after < 0) {
      throw new BillingException.FailedPrecondition(
          "INSUFFICIENT_CREDITS", "balance " + before + " is lower than " + Math.abs(delta));
    }
    String note = reason;
    if (upToBalance && delta != requested) {
      note =
          (reason == null ? "" : reason + "; ")
              + "only "
              + (-delta)
              + " of "
              + (-requested)
              + " credits were left";
    }
    String txnId = "ctx_" + UUID.randomUUID().toString().replace("-", "");
    // Both rows go with the COMMIT (or before the next statement on these tables).
    HeldCredits held = uow.attachment(HeldCredits.class, () -> new HeldCredits(uow));
    held.balances.put(userId, new Balance(userId, after));
    held.ledger.put(
        Long.toString(LEDGER_ORDER + held.appended++), // same width: string order is append order
        new LedgerEntry(
            0,
            txnId,
            userId,
            delta,
            after,
            kind,
            idempotencyKey,
            note,
            cause.actor(),
            paymentId,
            cause.stripeEventId(),
            0));
    audit.record(
        uow,
        userId,
        cause,
        "credits",
        userId,
        "credits." + kind,
        Long.toString(before),
        Long.toString(after));
    if (delta != 0) {
      entitlements.creditsChanged(uow, locked, after, cause);
    }
    return new CreditResult(after, txnId, false);
  }
}
