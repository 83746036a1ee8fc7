/**
 * Where container runs (runners with `compute: 'container'`) run: one ECS cluster on Fargate, in a VPC of public
 * subnets only, with no NAT gateway (a NAT gateway costs by the hour whether runs go on or not). Each run gets a
 * public IP to reach DynamoDB, SQS, S3 and CloudWatch Logs, and a security group that lets nothing in.
 */
import { Validations } from 'aws-cdk-lib';
import { Peer, Port, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerInsights } from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

export interface ContainerNetworkProps {
  /** Availability zones the runs may be placed in. @default 2 */
  readonly maxAzs?: number;
}

export class ContainerNetwork extends Construct {
  readonly vpc: Vpc;
  readonly cluster: Cluster;
  /** The runs' security group: all outbound (AWS APIs over HTTPS), nothing inbound. */
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: ContainerNetworkProps = {}) {
    super(scope, id);
    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Public', subnetType: SubnetType.PUBLIC }],
      // The default security group is used by nothing; restricting it would add a custom resource's Lambda function.
      restrictDefaultSecurityGroup: false,
    });
    Validations.of(this.vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason: 'The VPC carries only the container runs\' own outbound calls to AWS APIs (no inbound traffic is allowed); their calls are in CloudTrail and their logs in CloudWatch, so a flow log would add cost without a question it answers.',
    });
    this.securityGroup = new SecurityGroup(this, 'RunSecurityGroup', {
      vpc: this.vpc,
      allowAllOutbound: false,
      description: 'Blast container runs: HTTPS out to AWS APIs, nothing in',
    });
    // (The VPC's own DNS resolver is not filtered by security groups.)
    this.securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'AWS APIs and the public image registry over HTTPS');
    this.cluster = new Cluster(this, 'Cluster', { vpc: this.vpc, containerInsightsV2: ContainerInsights.ENABLED });
  }

  /** The subnet ids RunTask places runs in. */
  get subnetIds(): string[] {
    return this.vpc.selectSubnets({ subnetType: SubnetType.PUBLIC }).subnetIds;
  }
}
