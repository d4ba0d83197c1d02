package dev.billing.transport.grpc;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server's transport threads (Netty event loops), owned here rather than taken from
 * grpc-java's shared default so that code running on one can name it: {@link #current} is the event
 * loop of the calling thread, which is the loop of every call on that connection. The change
 * streams hand each loop its streams' sends as one task (see {@code StreamHub}). Same kind and
 * number of threads as grpc-java's default: epoll where available, else NIO; twice the cores.
 */
public final class TransportThreads implements AutoCloseable {
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Class<? extends ServerChannel> channelType;

  public TransportThreads() {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("grpc-boss", true), io);
    workers =
        new MultiThreadIoEventLoopGroup(
            2 * Runtime.getRuntime().availableProcessors(),
            new DefaultThreadFactory("grpc-default-worker", true),
            io);
    channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /** {@code builder} serving on these threads. */
  public NettyServerBuilder serveOn(NettyServerBuilder builder) {
    return builder.bossEventLoopGroup(boss).workerEventLoopGroup(workers).channelType(channelType);
  }

  /** The event loop the calling thread runs, or null when it is not one of these threads. */
  public Executor current() {
    for (EventExecutor loop : workers) {
      if (loop.inEventLoop()) {
        return loop;
      }
    }
    return null;
  }

  /** After the gRPC server has terminated: its connections are closed by then. */
  @Override
  public void close() {
    boss.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 5, TimeUnit.SECONDS);
  }
}
