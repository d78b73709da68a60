/*!40101 SET @saved_cs_client     = @@character_set_client */;
CREATE TABLE `users` (
  `id` int(11) NOT NULL,
  `pass` varchar(255) NOT NULL
);
/*!40101 SET character_set_client = @saved_cs_client */;
/*!40000 ALTER TABLE `users` DISABLE KEYS */;
INSERT INTO `users` VALUES (1,'x'),(2,'y');
/*!40000 ALTER TABLE `users` ENABLE KEYS */;
