package dev.billing.persistence;

import java.sql.CallableStatement;
import java.sql.ResultSet;
import org.apache.ibatis.type.BaseTypeHandler;

/** A type handler for parameters only: it binds values and never reads a column. */
abstract class ParameterTypeHandler<T> extends BaseTypeHandler<T> {
  @Override
  public T getNullableResult(ResultSet rs, String columnName) {
    throw new UnsupportedOperationException("a parameter only");
  }

  @Override
  public T getNullableResult(ResultSet rs, int columnIndex) {
    throw new UnsupportedOperationException("a parameter only");
  }

  @Override
  public T getNullableResult(CallableStatement cs, int columnIndex) {
    throw new UnsupportedOperationException("a parameter only");
  }
}
