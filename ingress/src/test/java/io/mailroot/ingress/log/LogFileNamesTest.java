package io.mailroot.ingress.log;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** IIS's file names for each period and format, in UTC and in local time. */
class LogFileNamesTest {

    private static final LogFileFormat W3C = new W3cFormat(List.of("date"));

    private static String name(String period, ZoneId zone, String at) {
        return new LogFileNames(period, zone, 1024).name(W3C, Instant.parse(at));
    }

    @Test
    void eachPeriodHasItsName() {
        assertEquals("ex26120309.log", name("hourly", ZoneOffset.UTC, "2026-12-03T09:15:00Z"));
        assertEquals("ex261203.log", name("daily", ZoneOffset.UTC, "2026-12-03T23:59:59Z"));
        assertEquals("ex2612.log", name("monthly", ZoneOffset.UTC, "2026-12-31T23:59:59Z"));
        assertEquals("extend3.log", new LogFileNames("size", ZoneOffset.UTC, 1024).sizeName(W3C, 3));
    }

    @Test
    void weeksOfTheMonthStartOnSunday() {
        // 1 December 2026 is a Tuesday: the 1st to the 5th are week 1, Sunday the 6th starts week 2
        assertEquals("ex261201.log", name("weekly", ZoneOffset.UTC, "2026-12-05T23:59:59Z"));
        assertEquals("ex261202.log", name("weekly", ZoneOffset.UTC, "2026-12-06T00:00:00Z"));
        assertEquals("ex261205.log", name("weekly", ZoneOffset.UTC, "2026-12-31T12:00:00Z"));
    }

    @Test
    void localTimeNamingRollsOverAtLocalMidnight() {
        ZoneId newYork = ZoneId.of("America/New_York");
        assertEquals("ex261204.log", name("daily", ZoneOffset.UTC, "2026-12-04T03:00:00Z"));
        assertEquals("ex261203.log", name("daily", newYork, "2026-12-04T03:00:00Z"));
        assertEquals("ex26120322.log", name("hourly", newYork, "2026-12-04T03:00:00Z"));
    }

    @Test
    void eachFormatHasItsPrefixes() {
        ZoneId utc = ZoneOffset.UTC;
        LogFileNames daily = new LogFileNames("daily", utc, 1024);
        Instant t = Instant.parse("2026-12-03T00:00:00Z");
        assertEquals("in261203.log", daily.name(new IisFormat(utc), t));
        assertEquals("nc261203.log", daily.name(new NcsaFormat(utc), t));
        assertEquals("inetsv1.log", daily.sizeName(new IisFormat(utc), 1));
        assertEquals("ncsa2.log", daily.sizeName(new NcsaFormat(utc), 2));
    }
}
