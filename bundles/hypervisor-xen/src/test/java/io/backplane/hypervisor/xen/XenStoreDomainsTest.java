package io.backplane.hypervisor.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.DomainState;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Domains as libxl leaves them in XenStore, read through the project's real store. */
class XenStoreDomainsTest {
    private EmbeddedXenStore store;
    private XenStoreDomains domains;

    @BeforeEach
    void store() {
        store = new EmbeddedXenStore(new Store(Quotas.XEN_4_17));
        domains = new XenStoreDomains(store);
        store.write("/local/domain/0/name", "Domain-0");
        // What libxl writes for `xl create` of a 512 MiB guest called web (and a second one).
        store.write("/local/domain/12/name", "web");
        store.write("/local/domain/12/memory/target", "524288");
        store.write("/local/domain/3/name", "db");
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void listsTheGuestsInDomidOrderWithoutDom0() {
        assertThat(domains.list()).extracting(DomainInfo::domid, DomainInfo::name)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(3, "db"), org.assertj.core.groups.Tuple.tuple(12, "web"));
    }

    @Test
    void infoReadsNameAndMemoryTargetAndSaysUnknownForTheRest() {
        DomainInfo web = domains.info(12).orElseThrow();
        assertThat(web.memoryPages()).isEqualTo(512L * 256);
        assertThat(web.grantFrames()).as("not in XenStore").isZero();
        assertThat(web.state()).isEqualTo(DomainState.RUNNING);
        assertThat(domains.info(3).orElseThrow().memoryPages()).isZero();
    }

    @Test
    void aDomainWhoseHomeIsGoneDoesNotExist() {
        store.rm("/local/domain/12");
        assertThat(domains.info(12)).isEmpty();
        assertThat(domains.info(77)).isEmpty();
        assertThat(domains.list()).extracting(DomainInfo::domid).containsExactly(3);
    }

    @Test
    void createAndDestroyAreLeftToXl() {
        assertThatThrownBy(() -> domains.create(DomainConfig.ofMiB("x", 64)))
                .isInstanceOf(HypervisorException.class).hasMessageContaining("on Xen, domains are created by xl")
                .extracting(e -> ((HypervisorException) e).errno()).isEqualTo("EPERM");
        assertThatThrownBy(() -> domains.destroy(12))
                .isInstanceOf(HypervisorException.class).hasMessageContaining("xl destroy 12");
    }
}
