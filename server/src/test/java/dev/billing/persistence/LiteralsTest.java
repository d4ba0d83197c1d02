package dev.billing.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.billing.domain.customer.CustomerLink;
import dev.billing.domain.customer.CustomerStore;
import dev.billing.testing.TestServer;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Values written into a packet's SQL as literals ({@link Literals}): the placeholders found are
 * those outside quotes, names and comments, and a value comes back from the database exactly as it
 * went in, whatever characters it holds, without ever ending its literal early.
 */
class LiteralsTest {
  private static TestServer server;
  private static Transactions tx;

  @BeforeAll
  static void start() {
    server = TestServer.startWithoutWarmup();
    tx = server.transactions();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void placeholdersAreThoseOutsideQuotesNamesAndComments() {
    String sql =
        "SELECT '?', \"?\", `a?b`, 'it''s ?', 'back\\' ?', ? /* ? */ FROM t -- ?\n"
            + "WHERE a = ? # ?\nAND b = ?";
    assertThat(Literals.template(sql))
        .containsExactly(
            "SELECT '?', \"?\", `a?b`, 'it''s ?', 'back\\' ?', ",
            " /* ? */ FROM t -- ?\nWHERE a = ",
            " # ?\nAND b = ",
            "");
    assertThatThrownBy(() -> Literals.template("SELECT 'open ?"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void valuesBecomeLiterals() throws Exception {
    StringBuilder out = new StringBuilder();
    Object[] values = {null, 7L, -3, true, false, new BigDecimal("12.50"), new byte[] {0, 15, -1}};
    Literals.append(out, new String[] {"", ",", ",", ",", ",", ",", ",", ""}, values);
    assertThat(out).hasToString("NULL,7,-3,1,0,12.50,X'000fff'");

    StringBuilder quoted = new StringBuilder();
    Literals.quoted(quoted, "a'b\"c\\d\0e\nf\rg\032h");
    assertThat(quoted).hasToString("'a\\'b\"c\\\\d\\0e\\nf\\rg\\Zh'");

    Literals.Values bound = new Literals.Values();
    bound.statement.setString(1, "a");
    bound.statement.setLong(200, 5L); // more parameters than it first has room for
    bound.statement.setNull(2, java.sql.Types.VARCHAR);
    assertThat(bound.all()[0]).isEqualTo("a");
    assertThat(bound.all()[1]).isNull();
    assertThat(bound.all()[199]).isEqualTo(5L);
    assertThatThrownBy(() -> bound.statement.executeQuery())
        .isInstanceOf(UnsupportedOperationException.class);

    StringBuilder in = new StringBuilder();
    Literals.literal(in, new Literals.InList(List.of("a'b", 7L)));
    in.append(" / ");
    Literals.literal(in, new Literals.InList(List.of()));
    assertThat(in).hasToString("'a\\'b',7 / NULL");

    assertThatThrownBy(() -> Literals.literal(new StringBuilder(), new Timestamp(0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.sql.Timestamp");
    assertThatThrownBy(() -> Literals.literal(new StringBuilder(), 1.5d))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anyStringRoundTripsAndNeverEndsItsLiteral() {
    List<String> users =
        List.of(
            "lit-quote'); DELETE FROM customers; -- ",
            "lit-backslash\\'; DELETE FROM customers; #",
            "lit-controls\0\n\r\t\032\b",
            "lit-double\"quote\\\\\"",
            "lit-unicode é 日本 😀 \u2028",
            "lit-question ? ?");
    List<CustomerLink> read =
        tx.execute(
            uow -> {
              ReadBatch reads = uow.reads();
              for (String u : users) {
                reads.count(CustomerStore.class, s -> s.insertIfAbsent(u, "cus_" + u));
              }
              Supplier<List<CustomerLink>> links =
                  reads.rows(CustomerStore.class, s -> s.findLinksOfUsers(users));
              reads.send();
              return links.get();
            });

    assertThat(read)
        .containsExactlyInAnyOrderElementsOf(
            users.stream().map(u -> new CustomerLink(u, "cus_" + u)).toList());
    assertThat(server.queryLong("SELECT COUNT(*) FROM customers WHERE user_id LIKE 'lit-%'"))
        .isEqualTo(users.size());
    for (String u : users) {
      assertThat(
              server.queryString("SELECT stripe_customer_id FROM customers WHERE user_id = ?", u))
          .isEqualTo("cus_" + u);
    }
  }
}
