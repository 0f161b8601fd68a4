from oauthflow_site.urls import urlpatterns as bench_urlpatterns

urlpatterns = list(bench_urlpatterns)
