package io.mailroot.ingress.log;

import java.util.List;

/** Where the protocol log's writer thread puts entries: the only thread that calls it. */
public interface LogSink {

    /** Writes a batch, in order; an exception means the batch is lost (it is counted as dropped). */
    void write(List<LogEntry> batch) throws Exception;

    /** Flushes and releases what it holds; never throws. */
    void close();
}
