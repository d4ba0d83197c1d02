package dev.billing.transport.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.proto.v1.BillingServiceGrpc;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Which thread runs which call (see {@link HotPathExecutors}). */
class HotPathExecutorsTest {
  private final HotPathExecutors executors = new HotPathExecutors(4);

  /** The thread a task handed to the executor of {@code method}'s calls runs on. */
  private Thread threadOf(MethodDescriptor<?, ?> method) throws Exception {
    Executor executor = executors.getExecutor(new Call<>(method), new Metadata());
    assertThat(executor).as(method.getFullMethodName()).isNotNull();
    CompletableFuture<Thread> ran = new CompletableFuture<>();
    executor.execute(() -> ran.complete(Thread.currentThread()));
    return ran.get(10, TimeUnit.SECONDS);
  }

  @Test
  void hotReadsAndStreamsStayOnTheTransportThread() {
    for (MethodDescriptor<?, ?> m :
        new MethodDescriptor<?, ?>[] {
          BillingServiceGrpc.getGetEntitlementMethod(),
          BillingServiceGrpc.getCheckUsageMethod(),
          BillingServiceGrpc.getStreamSubscriptionChangesMethod()
        }) {
      assertThat(executors.getExecutor(new Call<>(m), new Metadata()))
          .as(m.getFullMethodName())
          .isNull();
    }
  }

  @Test
  void databaseOnlyMutationsRunOnPlatformThreads() throws Exception {
    for (MethodDescriptor<?, ?> m :
        new MethodDescriptor<?, ?>[] {
          BillingServiceGrpc.getGrantCreditsMethod(), BillingServiceGrpc.getConsumeCreditsMethod()
        }) {
      Thread t = threadOf(m);
      assertThat(t.isVirtual()).as(m.getFullMethodName()).isFalse();
      assertThat(t.getName()).isEqualTo("grpc-db-call");
      assertThat(t.isDaemon()).isTrue();
    }
  }

  @Test
  void callsThatMayWaitOnStripeOrAGroupRunOnVirtualThreads() throws Exception {
    assertThat(threadOf(BillingServiceGrpc.getRecordUsageMethod()).isVirtual()).isTrue();
    assertThat(threadOf(BillingServiceGrpc.getCreateCheckoutMethod()).isVirtual()).isTrue();
  }

  /** A call that only names its method. */
  private static final class Call<Q, R> extends ServerCall<Q, R> {
    private final MethodDescriptor<Q, R> method;

    Call(MethodDescriptor<Q, R> method) {
      this.method = method;
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return method;
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(R message) {}

    @Override
    public void close(Status status, Metadata trailers) {}

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public Attributes getAttributes() {
      return Attributes.EMPTY;
    }
  }
}
