// trustboard on Azure, in one resource group:
//
//   Azure Bot (single tenant, Teams channel on) ──► https://<app>.azurewebsites.net/api/messages
//   App Service (Linux, the image in this registry, pulled with the app's own managed identity;
//     two or more instances (instanceCount) behind App Service's load balancer, no session
//     affinity; health check on /healthz, which takes an instance that fails it out of rotation;
//     always on, for the reminders and deliveries)
//   Container Registry (Basic; no admin user)
//   Azure Managed Redis, one for every instance (TLS only, append-only-file persistence every
//     second, noeviction; one endpoint, or the OSS cluster policy with redisClustered)
//     ──► REDIS_URL = rediss://:<access key>@<host>:10000, built here from its keys
//
// Why several instances of one App Service plan: the bot keeps nothing in its process (README.md,
// "State lives in Redis"), so any instance can take any turn and the loss of one leaves the others
// answering. Delivery workers share one consumer group and leases, and the agenda hands each
// timed item to one process by a lease, so two or more instances send nothing twice
// (docs/deploy.md, "Several instances").
//
// The Entra app registration (MicrosoftAppId, its secret) is made beforehand; docs/deploy.md
// walks through it all. Deploy with the parameters file (copied from main.example.bicepparam):
//
//   az deployment group create -g <group> -n trustboard -p deploy/azure/main.bicepparam
//
// Why Azure Managed Redis and not Azure Cache for Redis: the Basic, Standard and Premium tiers
// run Redis 6.0, which lacks XAUTOCLAIM (Redis 6.2), used by the delivery queue
// (bot/delivery/queue.py); only Premium persists data to disk; and the whole service is being
// retired (announced October 2025), with new customers steered to Azure Managed Redis.

targetScope = 'resourceGroup'

@description('Region for the app, the registry and Redis (the bot registration is global). UK South keeps the data in the UK.')
param location string = resourceGroup().location

@description('The web app\'s name, globally unique: its address is https://<appName>.azurewebsites.net. Also names the bot and the other resources.')
@minLength(2)
@maxLength(40)
param appName string = 'trustboard-${uniqueString(resourceGroup().id)}'

@description('The application (client) id of the bot\'s Entra app registration, a GUID.')
@minLength(36)
@maxLength(36)
param microsoftAppId string

@secure()
@description('A client secret of that app registration. Passed in at deployment, never stored in a file.')
param microsoftAppPassword string

@description('The directory (tenant) id the app registration belongs to: the trust\'s Microsoft 365 tenant. Serving several trusts, it stays the home tenant: docs/deploy.md, One deployment for several trusts.')
param microsoftAppTenantId string = tenant().tenantId

@description('The tag of the trustboard image in the registry this template creates (push it there: docs/deploy.md).')
param imageTag string = 'latest'

@description('App Service plan size. B1 serves a trust\'s boards comfortably (Basic allows at most 3 instances); Premium v3 (P0v3, P1v3) is needed for zoneRedundant.')
@allowed([
  'B1'
  'B2'
  'B3'
  'S1'
  'P0v3'
  'P1v3'
])
param appServiceSku string = 'B1'

@description('How many instances of the bot run at once, all on the one Redis. Two survive the loss of one; Basic sizes allow at most 3.')
@minValue(2)
@maxValue(10)
param instanceCount int = 2

@description('Spread the instances over the region\'s availability zones (Premium v3 sizes only, in a region with zones).')
param zoneRedundant bool = false

@description('Azure Managed Redis with the OSS cluster policy, so the store can grow past one server: the bot is then started with REDIS_CLUSTER=1 (README.md, Configuration). Off: one non-clustered endpoint.')
param redisClustered bool = false

@description('Each answer is saved only once the Redis replica (high availability) has it too: REDIS_WAIT_REPLICAS=1, so a failover of the primary loses no answer the bot acknowledged; during a failover or maintenance, answers are refused ("not saved", try again) instead (README.md, Redis Cluster). Off: the primary\'s word.')
param redisWaitForReplica bool = false

@description('Azure Managed Redis size. Balanced_B0 (0.5 GB) holds thousands of completed self-assessments.')
@allowed([
  'Balanced_B0'
  'Balanced_B1'
  'Balanced_B3'
  'Balanced_B5'
])
param redisSku string = 'Balanced_B0'

@description('Azure Bot pricing tier. Teams is a standard channel, free on F0.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('The bot\'s name in the Azure portal (Teams shows the name in the app package instead).')
param botDisplayName string = 'trustboard'

@description('Tags put on every resource.')
param tags object = {
  application: 'trustboard'
}

var registryName = 'tb${uniqueString(resourceGroup().id)}'
var redisPort = 10000
// AcrPull, a built-in role: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'
var image = '${registry.properties.loginServer}/trustboard:${imageTag}'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: registryName
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource redis 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: '${appName}-redis'
  location: location
  tags: tags
  sku: {
    name: redisSku
  }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: 'Enabled'
    publicNetworkAccess: 'Enabled'
  }
}

resource redisDatabase 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: redis
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted' // TLS only
    port: redisPort
    // NoCluster: one plain endpoint, for redis-py's ordinary client. OSSCluster: the Redis
    // Cluster protocol, which the bot speaks with REDIS_CLUSTER=1 (set below from the same
    // parameter, so the two cannot disagree; the bot refuses to start if they did).
    clusteringPolicy: redisClustered ? 'OSSCluster' : 'NoCluster'
    // As deploy/redis.conf: never evict an answer to make room; refuse the write instead.
    evictionPolicy: 'NoEviction'
    // As deploy/redis.conf: an append-only file, written every second.
    persistence: {
      aofEnabled: true
      aofFrequency: '1s'
    }
    accessKeysAuthentication: 'Enabled'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${appName}-plan'
  location: location
  tags: tags
  kind: 'linux'
  sku: {
    name: appServiceSku
    capacity: instanceCount
  }
  properties: {
    reserved: true // Linux
    zoneRedundant: zoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'app,linux,container'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    siteConfig: {
      linuxFxVersion: 'DOCKER|${image}'
      acrUseManagedIdentityCreds: true
      // Reminders, deadlines and deliveries run in the bot's own process: keep it running.
      alwaysOn: true
      healthCheckPath: '/healthz'
      http20Enabled: true
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
  }
}

// The bot's configuration, with the names it reads (README.md, Configuration). A separate
// resource so that PUBLIC_URL can use the app's own host name.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    MicrosoftAppId: microsoftAppId
    MicrosoftAppPassword: microsoftAppPassword
    MicrosoftAppType: 'SingleTenant'
    MicrosoftAppTenantId: microsoftAppTenantId
    REDIS_URL: 'rediss://:${uriComponent(redisDatabase.listKeys().primaryKey)}@${redis.properties.hostName}:${redisPort}'
    REDIS_CLUSTER: redisClustered ? '1' : '0'
    REDIS_WAIT_REPLICAS: redisWaitForReplica ? '1' : '0'
    PUBLIC_URL: 'https://${site.properties.defaultHostName}'
    HOST: '0.0.0.0'
    PORT: '3978'
    LOG_LEVEL: 'INFO'
    LOG_FORMAT: 'json'
    // App Service: send requests to the container's port 3978; the image keeps nothing on disk.
    WEBSITES_PORT: '3978'
    WEBSITES_ENABLE_APP_SERVICE_STORAGE: 'false'
    // An instance whose /healthz fails twice running (it is pinged once a minute) is taken out
    // of the load balancer's rotation, and replaced if it stays unhealthy; the default is ten.
    WEBSITE_HEALTHCHECK_MAXPINGFAILURES: '2'
  }
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, site.id, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: appName
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: {
    name: botSku
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${site.properties.defaultHostName}/api/messages'
    msaAppId: microsoftAppId
    msaAppType: 'SingleTenant'
    msaAppTenantId: microsoftAppTenantId
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
      enableCalling: false
      deploymentEnvironment: 'CommercialDeployment'
    }
  }
}

@description('The web app, for az webapp commands.')
output appName string = site.name

@description('BOT_DOMAIN for scripts/package: the host name Teams reaches the bot on.')
output botDomain string = site.properties.defaultHostName

@description('The messaging endpoint registered on the Azure Bot.')
output messagingEndpoint string = bot.properties.endpoint

@description('Where to push the image: docker push <registryLoginServer>/trustboard:<imageTag>.')
output registryLoginServer string = registry.properties.loginServer

@description('The registry, for az acr commands.')
output registryName string = registry.name

@description('The image the app runs.')
output image string = image

@description('How many instances of the bot the plan runs.')
output instanceCount int = plan.sku.capacity

@description('The Redis host (the access key is only in the app setting REDIS_URL).')
output redisHostName string = redis.properties.hostName
