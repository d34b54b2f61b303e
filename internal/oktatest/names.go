package oktatest

// Word lists the generator draws names from. Order matters: the generator
// indexes into them, so reordering changes every generated org.

var firstNames = []string{
	"Aiko", "Akira", "Alex", "Alice", "Amir", "Ana", "Anna", "Arjun", "Asuka", "Ben",
	"Bruno", "Carla", "Chen", "Chloe", "Daichi", "Daniel", "David", "Diego", "Elena", "Emi",
	"Emma", "Eric", "Fatima", "Felix", "Fumiko", "Grace", "Hana", "Haruka", "Haruto", "Hiro",
	"Ines", "Isaac", "Ivan", "Jack", "James", "Jin", "Joao", "Julia", "Kai", "Kaito",
	"Kana", "Karim", "Kate", "Keiko", "Ken", "Kenji", "Laura", "Leo", "Li", "Liam",
	"Lina", "Lucas", "Lucia", "Maria", "Mariko", "Mark", "Mei", "Mia", "Miguel", "Mika",
	"Minh", "Misaki", "Nadia", "Naoki", "Nina", "Noah", "Olivia", "Omar", "Paul", "Priya",
	"Rahul", "Ren", "Riku", "Rin", "Rosa", "Ryo", "Sakura", "Sam", "Sara", "Satoshi",
	"Sofia", "Sora", "Takeshi", "Taro", "Tom", "Tomoko", "Umar", "Vera", "Wei", "Yuki",
	"Yui", "Yuna", "Yusuf", "Yuto", "Zara", "Zoe",
}

var lastNames = []string{
	"Abe", "Adams", "Ali", "Alvarez", "Aoki", "Baker", "Brown", "Chan", "Chen", "Clark",
	"Costa", "Cruz", "Davis", "Diaz", "Endo", "Evans", "Fujii", "Fujita", "Garcia", "Goto",
	"Green", "Gupta", "Hall", "Harris", "Hasegawa", "Hayashi", "Hill", "Ikeda", "Inoue", "Ishii",
	"Ito", "Jackson", "Johnson", "Jones", "Kato", "Khan", "Kim", "Kimura", "Kobayashi", "Kondo",
	"Kumar", "Lee", "Lewis", "Li", "Lopez", "Martin", "Martinez", "Matsumoto", "Miller", "Mori",
	"Murakami", "Murata", "Nakajima", "Nakamura", "Nakano", "Nguyen", "Nishimura", "Ogawa", "Okada", "Ono",
	"Ota", "Park", "Patel", "Perez", "Rossi", "Saito", "Sakai", "Sakamoto", "Sasaki", "Sato",
	"Schmidt", "Shimizu", "Silva", "Singh", "Smith", "Suzuki", "Takahashi", "Takeda", "Tanaka", "Taylor",
	"Thomas", "Ueda", "Wang", "Watanabe", "White", "Williams", "Wilson", "Wong", "Yamada", "Yamaguchi",
	"Yamamoto", "Yamashita", "Yang", "Yoshida", "Young", "Zhang", "Zhao",
}

// departments: name, then individual-contributor titles.
var departments = []struct {
	name   string
	titles []string
}{
	{"Engineering", []string{"Software Engineer", "Senior Software Engineer", "Staff Engineer", "SRE", "QA Engineer"}},
	{"Product", []string{"Product Manager", "Senior Product Manager", "Product Analyst"}},
	{"Customer Support", []string{"Support Specialist", "Support Lead", "Trust Agent"}},
	{"Sales", []string{"Account Executive", "Sales Development Rep", "Account Manager"}},
	{"Marketing", []string{"Marketing Manager", "Content Strategist", "Growth Analyst"}},
	{"Data", []string{"Data Scientist", "Data Engineer", "Analyst"}},
	{"Design", []string{"Product Designer", "UX Researcher", "Brand Designer"}},
	{"Operations", []string{"Operations Specialist", "Logistics Coordinator"}},
	{"Finance", []string{"Accountant", "Financial Analyst", "Controller"}},
	{"People", []string{"HR Business Partner", "Recruiter", "People Ops Specialist"}},
	{"IT", []string{"IT Support Engineer", "Systems Administrator", "Identity Engineer"}},
	{"Security", []string{"Security Engineer", "Security Analyst"}},
	{"Legal", []string{"Counsel", "Paralegal", "Compliance Officer"}},
	{"Trust and Safety", []string{"Policy Specialist", "Investigator"}},
	{"Business Development", []string{"Partner Manager", "BD Manager"}},
	{"Research", []string{"Research Scientist", "Research Engineer"}},
	{"Logistics", []string{"Logistics Analyst", "Warehouse Coordinator"}},
	{"Communications", []string{"PR Manager", "Internal Comms Lead"}},
	{"Procurement", []string{"Buyer", "Vendor Manager"}},
	{"Facilities", []string{"Facilities Coordinator", "Workplace Manager"}},
}

// catalog is the app catalog: human label, Okta app name, sign-on mode.
// The first entries are the usual company-wide apps.
var catalog = []struct{ label, name, mode string }{
	{"Google Workspace", "google", "SAML_2_0"},
	{"Slack", "slack", "SAML_2_0"},
	{"Zoom", "zoomus", "SAML_2_0"},
	{"Workday", "workday", "SAML_2_0"},
	{"Confluence", "atlassian_confluence", "SAML_2_0"},
	{"Jira", "atlassian_jira", "SAML_2_0"},
	{"Salesforce", "salesforce", "SAML_2_0"},
	{"AWS Production", "amazon_aws", "SAML_2_0"},
	{"Company Handbook", "bookmark", "BOOKMARK"},
	{"Bank Portal", "examplecorp_bank_1", "AUTO_LOGIN"},
	{"Looker", "looker", "OPENID_CONNECT"},
	{"AWS Staging", "amazon_aws", "SAML_2_0"},
	{"GitHub Enterprise", "github_enterprise", "SAML_2_0"},
	{"Payroll", "examplecorp_payroll_1", "SAML_2_0"},
	{"Google Cloud", "google_cloud", "SAML_2_0"},
	{"Datadog", "datadog", "SAML_2_0"},
	{"PagerDuty", "pagerduty", "SAML_2_0"},
	{"Figma", "figma", "SAML_2_0"},
	{"Miro", "miro", "SAML_2_0"},
	{"Notion", "notion", "SAML_2_0"},
	{"Box", "boxnet", "SAML_2_0"},
	{"DocuSign", "docusign", "SAML_2_0"},
	{"Zendesk", "zendesk", "SAML_2_0"},
	{"Tableau", "tableau_online", "SAML_2_0"},
	{"Snowflake", "snowflake", "SAML_2_0"},
	{"BigQuery Console", "examplecorp_bigquery_1", "OPENID_CONNECT"},
	{"Sentry", "sentry", "SAML_2_0"},
	{"CircleCI", "circleci", "OPENID_CONNECT"},
	{"Terraform Cloud", "terraform_cloud", "SAML_2_0"},
	{"1Password", "onepassword", "OPENID_CONNECT"},
	{"HubSpot", "hubspot", "SAML_2_0"},
	{"Marketo", "marketo", "SAML_2_0"},
	{"NetSuite", "netsuite", "SAML_2_0"},
	{"Expensify", "expensify", "SAML_2_0"},
	{"Greenhouse", "greenhouse", "SAML_2_0"},
	{"Lattice", "lattice", "SAML_2_0"},
	{"ServiceNow", "servicenow_ud", "SAML_2_0"},
	{"Okta Admin Console", "saasure", "OPENID_CONNECT"},
	{"Splunk", "splunk", "SAML_2_0"},
	{"CrowdStrike Falcon", "crowdstrike", "SAML_2_0"},
	{"Jamf Pro", "jamf", "SAML_2_0"},
	{"Intune", "examplecorp_intune_1", "OPENID_CONNECT"},
	{"Adobe Creative Cloud", "adobe_creative_cloud", "SAML_2_0"},
	{"Canva", "canva", "SAML_2_0"},
	{"Asana", "asana", "SAML_2_0"},
	{"Trello", "trello", "AUTO_LOGIN"},
	{"LinkedIn Recruiter", "linkedin", "AUTO_LOGIN"},
	{"Twitter Ads", "twitter", "AUTO_LOGIN"},
	{"Facebook Business", "facebook", "AUTO_LOGIN"},
	{"Tax Filing Portal", "examplecorp_tax_1", "AUTO_LOGIN"},
	{"Vendor Portal", "examplecorp_vendor_1", "AUTO_LOGIN"},
	{"IT Help Center", "bookmark", "BOOKMARK"},
	{"Benefits", "bookmark", "BOOKMARK"},
	{"Travel Booking", "bookmark", "BOOKMARK"},
	{"Admin Dashboard", "examplecorp_admin_1", "OPENID_CONNECT"},
	{"Customer Support Console", "examplecorp_cs_console_1", "OPENID_CONNECT"},
	{"Fraud Review Tool", "examplecorp_fraud_1", "OPENID_CONNECT"},
	{"Feature Flags", "launchdarkly", "SAML_2_0"},
	{"Grafana", "examplecorp_grafana_1", "OPENID_CONNECT"},
	{"Argo CD", "examplecorp_argocd_1", "OPENID_CONNECT"},
	{"Vault", "examplecorp_vault_1", "OPENID_CONNECT"},
	{"Kibana", "examplecorp_kibana_1", "OPENID_CONNECT"},
	{"Metabase", "examplecorp_metabase_1", "OPENID_CONNECT"},
	{"Airflow", "examplecorp_airflow_1", "OPENID_CONNECT"},
	{"Spinnaker", "examplecorp_spinnaker_1", "OPENID_CONNECT"},
}

// appVariants make further unique labels from the catalog once it is used
// up ("Grafana Staging", "Salesforce (EU)").
var appVariants = []string{
	"Staging", "Sandbox", "Dev", "(EU)", "(US)", "(JP)", "QA", "Legacy", "Internal", "Test",
}

// adminGroupNames are privileged groups that grant no app.
var adminGroupNames = []string{
	"aws-prod-admins", "gcp-org-admins", "okta-super-admins", "github-org-owners",
	"db-prod-admins", "k8s-cluster-admins", "vault-admins", "salesforce-admins",
	"workday-admins", "slack-admins", "google-workspace-admins", "jamf-admins",
	"network-admins", "finance-approvers", "payroll-admins", "security-oncall",
}

// directoryGroupStems name APP_GROUPs mastered in Active Directory.
var directoryGroupStems = []string{
	"VPN Users", "File Share", "Print Operators", "SG-Engineering", "SG-Finance",
	"Remote Desktop Users", "Wifi-Corp", "SG-Sales", "SG-Support", "Legacy ERP",
	"SharePoint Members", "Domain Users", "SG-Data", "Build Agents", "SG-Legal",
}

// projectWords name access and project groups.
var projectWords = []string{
	"apollo", "atlas", "aurora", "beacon", "comet", "delta", "ember", "falcon", "gemini", "harbor",
	"helix", "horizon", "iris", "jade", "kite", "lumen", "mercury", "nebula", "nova", "onyx",
	"orbit", "pegasus", "phoenix", "polaris", "prism", "quartz", "raven", "sierra", "sonic", "summit",
	"tango", "titan", "vega", "vertex", "zephyr",
}
