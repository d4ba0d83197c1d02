package dev.billing.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;

/** What a failed gRPC call said, for assertions. */
public final class GrpcErrors {
  private GrpcErrors() {}

  /** The error a call fails with; an AssertionError if it succeeds. */
  public static StatusRuntimeException statusOf(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("expected a gRPC error");
  }

  /** The status code of a call: OK when it succeeds. */
  public static Status.Code codeOf(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  /** The error's google.rpc.ErrorInfo reason, or null. */
  public static String reasonOf(StatusRuntimeException e) {
    return StatusProto.fromThrowable(e).getDetailsList().stream()
        .filter(a -> a.is(com.google.rpc.ErrorInfo.class))
        .map(
            a -> {
              try {
                return a.unpack(com.google.rpc.ErrorInfo.class).getReason();
              } catch (InvalidProtocolBufferException ex) {
                throw new AssertionError(ex);
              }
            })
        .findFirst()
        .orElse(null);
  }

  /** The fields named by the error's google.rpc.BadRequest details. */
  public static List<String> fieldViolations(StatusRuntimeException e) {
    return StatusProto.fromThrowable(e).getDetailsList().stream()
        .filter(a -> a.is(BadRequest.class))
        .flatMap(
            a -> {
              try {
                return a.unpack(BadRequest.class).getFieldViolationsList().stream();
              } catch (InvalidProtocolBufferException ex) {
                throw new AssertionError(ex);
              }
            })
        .map(BadRequest.FieldViolation::getField)
        .toList();
  }
}
