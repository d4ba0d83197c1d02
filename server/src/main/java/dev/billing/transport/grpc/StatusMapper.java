package dev.billing.transport.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.billing.error.BillingException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place exceptions become gRPC statuses. Client mistakes log at WARN, our failures at
 * ERROR; callers get a clear message and {@code google.rpc} details, never a stack trace.
 */
public final class StatusMapper {
  private static final Logger log = LoggerFactory.getLogger(StatusMapper.class);
  static final String DOMAIN = "billing.internal";

  private StatusMapper() {}

  public static StatusRuntimeException toStatus(Throwable t, String method) {
    if (t instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (t instanceof BillingException be) {
      Code code =
          switch (be) {
            case BillingException.InvalidArgument ignored -> Code.INVALID_ARGUMENT;
            case BillingException.NotFound ignored -> Code.NOT_FOUND;
            case BillingException.FailedPrecondition ignored -> Code.FAILED_PRECONDITION;
            case BillingException.Unavailable ignored -> Code.UNAVAILABLE;
            case BillingException.Internal ignored -> Code.INTERNAL;
          };
      com.google.rpc.Status.Builder status =
          com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(be.getMessage());
      if (be instanceof BillingException.InvalidArgument ia) {
        BadRequest.Builder br = BadRequest.newBuilder();
        ia.violations()
            .forEach(
                v ->
                    br.addFieldViolations(
                        BadRequest.FieldViolation.newBuilder()
                            .setField(v.field())
                            .setDescription(v.description())));
        status.addDetails(Any.pack(br.build()));
      }
      status.addDetails(
          Any.pack(ErrorInfo.newBuilder().setReason(be.reason()).setDomain(DOMAIN).build()));
      if (code == Code.INTERNAL || code == Code.UNAVAILABLE) {
        log.error(
            "{} for {} failed: {}", method, CallerContext.caller(), be.getMessage(), be.getCause());
      } else {
        log.warn("{} for {} rejected: {}", method, CallerContext.caller(), be.getMessage());
      }
      return StatusProto.toStatusRuntimeException(status.build());
    }
    log.error("{} for {} failed unexpectedly", method, CallerContext.caller(), t);
    return Status.INTERNAL
        .withDescription("internal error; the server logged the details")
        .asRuntimeException();
  }
}
