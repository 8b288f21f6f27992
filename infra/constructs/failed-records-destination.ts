/**
 * The evaluator's on-failure destination: an S3 bucket that receives the full invocation record of
 * a Kafka batch Lambda gave up on. CDK's `S3OnFailureDestination` grants the function read, write
 * and delete on the whole bucket; Lambda needs only `s3:PutObject` on its objects and
 * `s3:ListBucket` on the bucket (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html),
 * so this destination grants exactly that.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** An S3 on-failure destination with the two permissions Lambda documents. */
export class FailedRecordsDestination implements lambda.IEventSourceDlq {
  constructor(private readonly bucket: s3.IBucket) {}

  /** Grants the function's role what Lambda uses to write failed batches, and names the bucket. */
  bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    targetHandler.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')] }));
    targetHandler.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    return { destination: this.bucket.bucketArn };
  }
}
