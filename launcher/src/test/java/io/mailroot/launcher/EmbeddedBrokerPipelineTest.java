package io.mailroot.launcher;

import io.mailroot.testkit.SharedKafka;

/** The pipeline on the embedded broker this test JVM shares. */
class EmbeddedBrokerPipelineTest extends PipelineScenarios {

    @Override
    protected String bootstrap() {
        return SharedKafka.bootstrap();
    }
}
