"""CloudFormation resource providers for ``AWS::MSK::Cluster``, ``AWS::MSK::ServerlessCluster`` and
``AWS::AmazonMQ::Broker`` (group ``localstack.cloudformation.resource_providers``; the plugin classes in ``plugins``
are import-light). They call the ``kafka:local`` / ``mq:local`` providers through LocalStack's internal clients.
Ref and attributes as CloudFormation returns them: MSK clusters Ref/Arn = the cluster ARN; a broker's Ref/Id = the
broker id, plus Arn, ConfigurationId, ConfigurationRevision, IpAddresses and the endpoint lists."""
