package dev.billing.persistence;

/**
 * Where domain code gets the store (a plain interface, bound to its SQL in {@code
 * persistence/mappers/}) of a table it owns, inside a transaction or for a read.
 */
public interface Stores {
  <S> S store(Class<S> type);
}
