package io.mailroot.ingress.log;

import io.mailroot.core.config.MailrootConfig;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.WeekFields;

/**
 * Which file an entry goes to, named as IIS named them: {@code exYYMMDDHH.log} hourly, {@code exYYMMDD.log} daily,
 * {@code exYYMMWW.log} weekly (WW the week of the month, weeks starting on Sunday, so a week that spans two months
 * spans two files), {@code exYYMM.log} monthly, or {@code extendN.log} by size ({@link LogFileSink} counts N up).
 * The prefix is the format's ({@code ex}, {@code in}, {@code nc}). Time is UTC unless local time naming is on
 * (IIS's "Use local time for file naming and rollover").
 *
 * @param period one of {@link MailrootConfig.Logging#PERIODS}
 * @param zone the time zone names and rollover follow
 * @param maxBytes the size past which {@code size} starts the next file
 */
record LogFileNames(String period, ZoneId zone, long maxBytes) {

    private static final WeekFields SUNDAY_WEEKS = WeekFields.of(DayOfWeek.SUNDAY, 1);

    /** @param local the zone of local time naming */
    static LogFileNames of(MailrootConfig.Logging l, ZoneId local) {
        return new LogFileNames(l.period(), l.localTimeNaming() ? local : ZoneOffset.UTC, l.maxSizeKb() * 1024L);
    }

    boolean bySize() {
        return period.equals("size");
    }

    /** The name of the time-named file {@code time} falls in. */
    String name(LogFileFormat format, Instant time) {
        ZonedDateTime t = time.atZone(zone);
        String yymm = two(t.getYear() % 100) + two(t.getMonthValue());
        String stem = switch (period) {
            case "hourly" -> yymm + two(t.getDayOfMonth()) + two(t.getHour());
            case "daily" -> yymm + two(t.getDayOfMonth());
            case "weekly" -> yymm + two(t.get(SUNDAY_WEEKS.weekOfMonth()));
            case "monthly" -> yymm;
            default -> throw new IllegalStateException("not a time period: " + period);
        };
        return format.prefix() + stem + ".log";
    }

    /** The name of the {@code n}th size-named file. */
    String sizeName(LogFileFormat format, int n) {
        return format.sizePrefix() + n + ".log";
    }

    private static String two(int n) {
        return n < 10 ? "0" + n : Integer.toString(n);
    }
}
