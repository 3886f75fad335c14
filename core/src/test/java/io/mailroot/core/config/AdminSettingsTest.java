package io.mailroot.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The admin listener's keys: defaults, what is refused, the container's variable, and the README table. */
class AdminSettingsTest {

    private static final Path BASE = Path.of("/srv/mailroot");

    @Test
    void onByDefaultOnLoopbackPort8026() {
        MailrootConfig.Admin a = ConfigLoader.parse("", BASE).admin();
        assertEquals(new MailrootConfig.Admin(true, List.of("127.0.0.1"), 8026, true), a);
    }

    @Test
    void aHostNameIsNotAnAddress() {
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("admin: {addresses: [localhost]}", BASE));
        assertEquals("configuration key 'admin.addresses' has value 'localhost'; allowed: IP addresses, e.g. 127.0.0.1 or 0.0.0.0",
                e.getMessage());
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("admin: {addresses: [\"10.0.0.256\"]}", BASE));
        assertEquals(List.of("0.0.0.0", "::1"),
                ConfigLoader.parse("admin: {addresses: [0.0.0.0, \"::1\"]}", BASE).admin().addresses());
    }

    @Test
    void aPortOutOfRangeAndNoAddressesAreRefused() {
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("admin: {port: 0}", BASE));
        assertEquals("configuration key 'admin.port' has value '0'; allowed: 1–65535", e.getMessage());
        var none = assertThrows(ConfigException.class, () -> ConfigLoader.parse("admin: {addresses: []}", BASE));
        assertTrue(none.getMessage().contains("admin.addresses"), none.getMessage());
        assertFalse(ConfigLoader.parse("admin: {enabled: false, addresses: []}", BASE).admin().enabled());
    }

    @Test
    void containersSetTheAddressesThroughTheEnvironment() {
        MailrootConfig c = ConfigLoader.parse("", BASE, Map.of("MAILROOT_ADMIN_ADDRESSES", "[0.0.0.0]",
                "MAILROOT_ADMIN_PORT", "9026"));
        assertEquals(List.of("0.0.0.0"), c.admin().addresses());
        assertEquals(9026, c.admin().port());
    }

    @Test
    void theKeysAreInTheGeneratedTable() {
        String table = ConfigTable.markdown();
        for (String key : List.of("admin.enabled", "admin.addresses", "admin.port")) {
            assertTrue(table.contains("`" + key + "`"), key + " in\n" + table);
        }
    }
}
