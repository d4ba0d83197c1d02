package dev.billing.persistence;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import org.apache.ibatis.type.JdbcType;

/**
 * Binds a list as the items of an {@code IN} list, in ONE placeholder of a static statement: {@code
 * user_id IN (#{userIds, typeHandler=dev.billing.persistence.InListTypeHandler})} is sent as {@code
 * user_id IN ('u1','u2')}, and an empty list as {@code IN (NULL)}, which matches nothing (the
 * optimizer drops the range). The statement's text stays the same whatever the list's length, so
 * MyBatis does not build it again for every call, as it does an {@code IN (<foreach>)} (a regular
 * expression and a parameter mapping per item).
 *
 * <p>Only for statements sent in a packet ({@link ReadBatch}, {@link CommitBatch}), whose values
 * are written into the text ({@link Literals}): a prepared statement has no way to take a list in
 * one placeholder, and binding one there fails.
 */
public final class InListTypeHandler extends ParameterTypeHandler<List<?>> {
  @Override
  public void setNonNullParameter(PreparedStatement ps, int i, List<?> parameter, JdbcType jdbcType)
      throws SQLException {
    ps.setObject(i, Literals.inList(ps, parameter));
  }

  @Override
  public void setParameter(PreparedStatement ps, int i, List<?> parameter, JdbcType jdbcType)
      throws SQLException {
    setNonNullParameter(ps, i, parameter == null ? List.of() : parameter, jdbcType);
  }
}
