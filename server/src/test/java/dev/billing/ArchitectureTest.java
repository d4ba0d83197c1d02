package dev.billing;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import dev.billing.domain.archfixture.ProtoInTheDomain;
import org.junit.jupiter.api.Test;

/**
 * The layers of {@code server/} (README "Layout"), held as rules on the production classes:
 * transport → stripe → domain → persistence → config, no package cycles, the domain free of wire
 * formats and frameworks, MyBatis only in persistence, every table's store used by its own domain
 * package only, and no emulator in the production jar.
 */
class ArchitectureTest {
  private static final JavaClasses PRODUCTION =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.billing");

  static final ArchRule LAYERS =
      layeredArchitecture()
          .consideringOnlyDependenciesInLayers()
          .layer("Wiring")
          .definedBy("dev.billing")
          .layer("Transport")
          .definedBy("dev.billing.transport..")
          .layer("Stripe")
          .definedBy("dev.billing.stripe..")
          .layer("Domain")
          .definedBy("dev.billing.domain..")
          .layer("Persistence")
          .definedBy("dev.billing.persistence..")
          .layer("Base")
          .definedBy("dev.billing.config..", "dev.billing.error..", "dev.billing.util..")
          .whereLayer("Transport")
          .mayOnlyBeAccessedByLayers("Wiring")
          .whereLayer("Stripe")
          .mayOnlyBeAccessedByLayers("Wiring", "Transport")
          .whereLayer("Domain")
          .mayOnlyBeAccessedByLayers("Wiring", "Transport", "Stripe")
          .whereLayer("Persistence")
          .mayOnlyBeAccessedByLayers("Wiring", "Transport", "Domain")
          .whereLayer("Base")
          .mayOnlyBeAccessedByLayers("Wiring", "Transport", "Stripe", "Domain", "Persistence");

  static final ArchRule DOMAIN_IS_PLAIN_JAVA =
      noClasses()
          .that()
          .resideInAPackage("dev.billing.domain..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.billing.proto..",
              "com.google.protobuf..",
              "io.grpc..",
              "io.undertow..",
              "com.google.gson..",
              "com.stripe..",
              "org.apache.ibatis..")
          .because(
              "domain packages own rules over plain records: protos and gRPC belong to transport,"
                  + " JSON and stripe-java to the stripe layer, MyBatis to persistence");

  @Test
  void layersPointDown() {
    LAYERS.check(PRODUCTION);
  }

  @Test
  void noPackageCycles() {
    slices().matching("dev.billing.(**)").should().beFreeOfCycles().check(PRODUCTION);
  }

  @Test
  void theDomainKnowsNoProtoGrpcJsonStripeOrMyBatis() {
    DOMAIN_IS_PLAIN_JAVA.check(PRODUCTION);
  }

  @Test
  void onlyPersistenceKnowsMyBatis() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.billing.persistence..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("org.apache.ibatis..")
        .check(PRODUCTION);
  }

  @Test
  void stripeJsonStaysInTheStripeLayer() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.billing.domain..", "dev.billing.persistence..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("com.google.gson..", "dev.billing.stripe..")
        .check(PRODUCTION);
  }

  @Test
  void everyTableHasOneOwningPackage() {
    ArchRuleDefinition.classes()
        .that()
        .haveSimpleNameEndingWith("Store")
        .and()
        .resideInAPackage("dev.billing.domain..")
        .should(beUsedOnlyByTheirOwnPackage())
        .check(PRODUCTION);
  }

  @Test
  void theEmulatorIsNotInTheProductionClasses() {
    assertThat(PRODUCTION.stream().map(JavaClass::getPackageName))
        .noneMatch(p -> p.contains(".emulator"));
    noClasses().should().dependOnClassesThat().resideInAPackage("..emulator..").check(PRODUCTION);
  }

  /** The rules can fail: a domain class that imports a proto type breaks the domain rule. */
  @Test
  void aForbiddenImportInTheDomainIsCaught() {
    JavaClasses bad = new ClassFileImporter().importClasses(ProtoInTheDomain.class);
    var result = DOMAIN_IS_PLAIN_JAVA.evaluate(bad);
    assertThat(result.hasViolation()).isTrue();
    assertThat(result.getFailureReport().getDetails())
        .anyMatch(d -> d.contains("dev.billing.proto.v1.SubscriptionStatus"));
  }

  /** A table's store (its SQL binding) is used by its own domain package, and wired at start. */
  private static ArchCondition<JavaClass> beUsedOnlyByTheirOwnPackage() {
    return new ArchCondition<>("be used only by classes of their own package (and the wiring)") {
      @Override
      public void check(JavaClass store, ConditionEvents events) {
        for (Dependency d : store.getDirectDependenciesToSelf()) {
          JavaClass user = d.getOriginClass();
          String pkg = user.getPackageName();
          if (!pkg.equals(store.getPackageName()) && !pkg.equals("dev.billing")) {
            events.add(SimpleConditionEvent.violated(d, d.getDescription()));
          }
        }
      }
    };
  }
}
