package io.backplane.hypervisor.xen;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainListener;
import io.backplane.api.log.OperatorLog;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** @releaseDomain after libxl removed a domain's home, as on a real host, through the project's store. */
class DomainWatcherTest {

    @Test
    void aReleasedDomainWhoseHomeIsGoneIsReportedOnce() throws Exception {
        try (EmbeddedXenStore store = new EmbeddedXenStore(new Store(Quotas.XEN_4_17))) {
            store.write("/local/domain/4/name", "web");
            store.write("/local/domain/5/name", "db");
            LinkedBlockingQueue<Integer> destroyed = new LinkedBlockingQueue<>();
            DomainListener listener = new DomainListener() {
                @Override
                public void domainDestroyed(int domid) {
                    destroyed.add(domid);
                }
            };
            try (DomainWatcher watcher = new DomainWatcher(store, () -> List.of(listener), OperatorLog.lines(m -> { }))) {
                assertThat(watcher.knownDomains()).containsExactlyInAnyOrder(4, 5);
                store.introduceDomain(6, 0x1000, 3);
                store.write("/local/domain/6/name", "new");
                store.introduceDomain(7, 0x1000, 3);   // fires @introduceDomain again: 6 is known by now
                store.rm("/local/domain/4");
                store.releaseDomain(6);                 // any @releaseDomain makes the watcher look
                assertThat(destroyed.poll(10, TimeUnit.SECONDS)).isEqualTo(4);
                store.rm("/local/domain/6");
                store.releaseDomain(7);
                // The message names what the watcher believed, should a report ever go missing.
                assertThat(destroyed.poll(10, TimeUnit.SECONDS))
                        .as("domain 6 reported after its home went; the watcher knows %s", watcher.knownDomains())
                        .isEqualTo(6);
                assertThat(destroyed.poll(300, TimeUnit.MILLISECONDS)).as("reported once").isNull();
            }
        }
    }
}
