// Parameters for main.bicep. Copy this file to deploy/azure/main.bicepparam, fill in the two ids,
// and deploy with the secret in the environment, so that it is never written to a file:
//
//   export MicrosoftAppPassword='<the client secret>'
//   az deployment group create -g <group> -n trustboard -p deploy/azure/main.bicepparam
//
using './main.bicep'

// The application (client) id of the bot's Entra app registration (docs/deploy.md, step 1).
param microsoftAppId = '00000000-0000-0000-0000-000000000000'

// Its client secret, read from the environment variable of the same name the bot uses.
param microsoftAppPassword = readEnvironmentVariable('MicrosoftAppPassword')

// The trust's Microsoft 365 tenant (directory) id: Entra admin centre, Overview.
param microsoftAppTenantId = '00000000-0000-0000-0000-000000000000'

// Keep the data in the UK.
param location = 'uksouth'

// Optional: a name of your own (globally unique, 2 to 40 letters, digits and hyphens); the
// default is trustboard-<a hash of the resource group>.
// param appName = 'oak-trustboard'

// The image tag you pushed (docs/deploy.md, step 3).
param imageTag = 'latest'

// Optional: how many instances of the bot (at least 2, so the loss of one leaves the other;
// Basic sizes allow at most 3), and Redis clustered for a deployment that outgrows one server
// (docs/deploy.md, step 2).
// param instanceCount = 3
// param redisClustered = true
// An answer saved only once Redis's replica has it too (docs/deploy.md, step 2).
// param redisWaitForReplica = true
